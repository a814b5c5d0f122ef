"""The training losses: per-task means of per-example losses over a collated batch (depth, normals, the
segmentation tasks with instance slots assigned to ground truth by Hungarian matching)."""

import torch
import torch.nn.functional as F
from scipy.optimize import linear_sum_assignment

from .generator import TASK_DEPTH, TASK_INSTANCE, TASK_NORMALS, TASK_REFERRING, TASK_SEMANTIC, TASKS
from .data import IGNORE

# Weight of the presence head's binary cross-entropy beside the per-task losses.
PRESENCE_WEIGHT = 0.5


def labelled_share(seg):
    """[B,h,w] labels -> [B]: the share of each example's pixels that carry a label (not IGNORE)."""
    return (seg != IGNORE).float().flatten(1).mean(1)


def presence_weights(present, entries, labelled):
    """Binary cross-entropy weights of presence labels [N,T] (bool) for the entries in use [N,T]. A name with
    no labelled pixel is absent only as far as the label covers the photo: teacher labels leave unsure pixels
    unlabelled (about half of a merged photo), and a thing hidden there is not absent. So an absent label
    weighs the example's labelled share, a present one 1."""
    return torch.where(present, 1.0, labelled[:, None]) * entries.float()


def walk_to_log_depth(f):
    """log metres from the walk position (the inverse of data.depth_to_walk), kept off 0 m and the sky's f = 1."""
    f = f.clamp(1e-4, 1 - 1e-4)
    return torch.log(10 * ((1 - f).rsqrt() - 1))


def losses(outputs, batch, si_weight=0.0, instance_balance=0.0):
    """Per-task mean of per-example losses, computed for the whole batch at once.

    depth: 4 x L1 on the walk position, plus `si_weight` x the scale-invariant log-depth error (the variance
    of log(pred / true) over labelled non-sky pixels, Eigen et al. 2014), which rewards the right shape
    whatever the scale; normals: 1 - cos over valid pixels; segmentation tasks: cross-entropy over
    {background, entries} (masked entries carry -1e4 logits), instance slots matched to ground truth first.
    Returns (sum over tasks, {task: value}); with si_weight the unweighted scale-invariant error is also
    reported, as "depth_si". With a presence head, PRESENCE_WEIGHT x its binary cross-entropy is added
    (reported as "presence"): on semantic and referring entries, an entry is present when its label has
    any pixel, and an absent one weighs the share of the photo that is labelled (`presence_weights`;
    instance slots are left to the pixel loss); and on the batch's probe names, if any
    (`batch["probe_labels"]`, Mixture's `--presence-probes`), which never enter the prompt.
    With `instance_balance` β > 0, an instance example's pixels of each true instance weigh area^-β,
    scaled so that its instances' pixels keep their total weight: small instances count for more.
    """
    walk, normal, logits, presence = outputs.walk, outputs.normal, outputs.logits, outputs.presence
    task = batch["task"]
    per_example = torch.zeros(task.shape[0], device=walk.device)

    is_depth = task == TASK_DEPTH
    depth_ok = torch.zeros_like(is_depth)
    if is_depth.any():
        target = batch["walk"][is_depth]
        valid = ~torch.isnan(target)  # real depth has holes
        error = (walk[is_depth, 0].float() - torch.nan_to_num(target)).abs() * valid
        count = valid.sum(dim=(1, 2))
        per_example[is_depth] = error.sum(dim=(1, 2)) / count.clamp(min=1) * 4
        depth_ok[is_depth] = count > 0
        if si_weight:
            near = valid & (target < 1 - 1e-4)  # the sky has no finite depth
            g = (walk_to_log_depth(walk[is_depth, 0].float()) - walk_to_log_depth(torch.nan_to_num(target))) * near
            n = near.sum(dim=(1, 2)).clamp(min=1)
            si = g.square().sum(dim=(1, 2)) / n - (g.sum(dim=(1, 2)) / n).square()
            per_example[is_depth] += si_weight * si

    is_normals = task == TASK_NORMALS
    normal_ok = torch.zeros_like(is_normals)
    if is_normals.any():
        target = batch["normal"][is_normals]
        valid = (target.abs().sum(1) > 0.5).float()
        cos = (normal[is_normals].float() * target).sum(1)
        count = valid.sum(dim=(1, 2))
        per_example[is_normals] = ((1 - cos) * valid).sum(dim=(1, 2)) / count.clamp(min=1)
        normal_ok[is_normals] = count > 0

    is_seg = (task == TASK_SEMANTIC) | (task == TASK_INSTANCE) | (task == TASK_REFERRING)
    seg_ok = torch.zeros_like(is_seg)
    presence_terms = []  # (summed BCE, count) of prompt entries and of probe names
    if outputs.probe_presence is not None:
        probe_labels = batch["probe_labels"]
        weight = presence_weights(probe_labels > 0.5, batch["probe_mask"], labelled_share(batch["seg"]))
        bce = F.binary_cross_entropy_with_logits(outputs.probe_presence.float(), probe_labels, reduction="none")
        presence_terms.append(((bce * weight).sum(), weight.sum()))
    if is_seg.any():
        target = batch["seg"][is_seg]
        lg = logits[is_seg].float()
        matched = batch["matched"][is_seg]
        counted = (target != IGNORE).float()
        if matched.any():
            target = target.clone()
            for k in torch.nonzero(matched).flatten().tolist():
                target[k] = assign_instances_to_slots(lg[k], target[k])
                if instance_balance:
                    counted[k] = instance_weights(target[k], instance_balance)
        pixel = F.cross_entropy(lg, target, ignore_index=IGNORE, reduction="none")
        count = counted.sum(dim=(1, 2))
        per_example[is_seg] = (pixel * counted).sum(dim=(1, 2)) / count.clamp(min=1)
        seg_ok[is_seg] = count > 0
        named = ~matched
        if presence is not None and named.any():
            entries = batch["mask"][is_seg][named]  # [N, T]
            labels = target[named]
            present = torch.stack([(labels == k + 1).flatten(1).any(1) for k in range(entries.shape[1])], dim=1)
            weight = presence_weights(present, entries, labelled_share(labels))
            bce = F.binary_cross_entropy_with_logits(presence[is_seg][named].float(), present.float(), reduction="none")
            presence_terms.append(((bce * weight).sum(), weight.sum()))

    keep = depth_ok | normal_ok | seg_ok
    parts = {}
    for t, name in enumerate(TASKS):
        sel = keep & (task == t)
        if sel.any():
            parts[name] = per_example[sel].mean()
    total = sum(parts.values())
    presence_loss = None
    if presence_terms and sum(n for _, n in presence_terms) > 0:
        presence_loss = sum(t for t, _ in presence_terms) / sum(n for _, n in presence_terms)
        total = total + PRESENCE_WEIGHT * presence_loss
        parts["presence"] = presence_loss
    if si_weight and (keep & is_depth).any():
        parts["depth_si"] = si[(keep & is_depth)[is_depth]].mean()
    return total, {k: float(v.detach()) for k, v in parts.items()}


def instance_weights(target, beta):
    """Pixel weights for one instance example: 1 on the background, area^-beta on each instance's pixels,
    scaled so that the instances' pixels keep their total weight; 0 where unlabelled."""
    weight = (target != IGNORE).float()
    ids = [v for v in target.unique().tolist() if 0 < v < IGNORE]
    if ids:
        areas = {v: float((target == v).sum()) for v in ids}
        raw = {v: areas[v] ** -beta for v in ids}
        scale = sum(areas.values()) / sum(raw[v] * areas[v] for v in ids)
        for v in ids:
            weight[target == v] = raw[v] * scale
    return weight


def assign_instances_to_slots(lg, target):
    """Hungarian matching of ground-truth instances to slots by mask log-likelihood."""
    logp = torch.log_softmax(lg.detach(), dim=0)[1:]  # [slots, h, w]
    ids = [int(v) for v in target.unique() if 0 < v < IGNORE]
    if not ids:
        return target
    cost = torch.stack([-(logp[:, target == j]).mean(1) for j in ids], dim=1)  # [slots, gt]
    rows, cols = linear_sum_assignment(cost.cpu().numpy())
    out = target.clone()
    for r, c in zip(rows, cols):
        out[target == ids[c]] = r + 1
    return out

