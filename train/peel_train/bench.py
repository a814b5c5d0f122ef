"""Training throughput: examples per second of the real training step, per configuration.

    python -m peel_train.bench --data ../target/peel-data [--steps 12] [--rounds 3] [--only NAME ...]

Every configuration runs the real loop (data drawing and collation, forward, loss, backward,
AdamW) on the cached data, from the same initial weights. The configurations are interleaved
round by round, so a noisy, shared machine slows them alike; the table gives the median over
rounds and the ratio to the first row (peel-gen-1's loop) measured in the same run.
"""

import argparse
import statistics
import time
from types import SimpleNamespace

import numpy as np
import torch
import torch.nn.functional as F

from .data import IGNORE
from .generator import TASK_DEPTH, TASK_NORMALS, TASKS, PeelGenerator
from .losses import assign_instances_to_slots, losses
from .mixture import Embedder, Mixture
from .pack import load_sources
from .train import Batches, autocast_for, make_optimizer, phrase_table, set_encoder_frozen, train_step


def losses_per_example(outputs, batch):
    """peel-gen-1's loss: one example at a time in a Python loop (the reference `losses` equals)."""
    walk, normal, logits = outputs.walk, outputs.normal, outputs.logits
    per_task = {t: [] for t in range(len(TASKS))}
    for i, task in enumerate(batch["task"].tolist()):
        if task == TASK_DEPTH:
            valid = ~torch.isnan(batch["walk"][i])
            if valid.any():
                per_task[task].append((walk[i, 0].float() - batch["walk"][i])[valid].abs().mean() * 4)
        elif task == TASK_NORMALS:
            target = batch["normal"][i]
            valid = target.abs().sum(0) > 0.5
            cos = (normal[i].float() * target).sum(0)
            if valid.any():
                per_task[task].append((1 - cos[valid]).mean())
        else:
            n = int(batch["mask"][i].sum())
            lg = logits[i, : n + 1].float()
            target = batch["seg"][i]
            if batch["matched"][i]:
                target = assign_instances_to_slots(lg, target)
            if (target != IGNORE).any():
                per_task[task].append(F.cross_entropy(lg[None], target[None], ignore_index=IGNORE))
    parts = {TASKS[t]: torch.stack(v).mean() for t, v in per_task.items() if v}
    return sum(parts.values()), {k: float(v.detach()) for k, v in parts.items()}


# name, settings (cumulative from the row above unless stated); the first row is peel-gen-1's loop.
CONFIGS = [
    ("peel-gen-1 loop (1 thread, per-example loss)",
     dict(threads=1, loss="loop", channels_last=False, workers=0, bf16=False, scale=1, batch=8, freeze=0)),
    ("2 threads", dict(threads=2)),
    ("+ vectorized loss", dict(loss="vector")),
    ("+ channels_last", dict(channels_last=True)),
    ("+ data thread", dict(workers=1)),
    ("+ bf16 autocast", dict(bf16=True)),
    ("channels_last, data thread, fp32, half resolution (128x96)", dict(bf16=False, scale=2)),
    ("+ batch 16", dict(batch=16)),
    ("+ stem and blocks 0-3 frozen", dict(freeze=4)),
    ("full resolution, batch 16, stem and blocks 0-3 frozen", dict(scale=1)),
]


def configs():
    out, current = [], {}
    for name, change in CONFIGS:
        current = {**current, **change}
        out.append((name, dict(current)))
    return out


class Runner:
    def __init__(self, cfg, mix, embedder, init_state, seed):
        self.cfg = cfg
        self.model = PeelGenerator()
        self.model.load_state_dict(init_state)
        if cfg["channels_last"]:
            self.model = self.model.to(memory_format=torch.channels_last)
        if cfg["freeze"]:
            set_encoder_frozen(self.model, cfg["freeze"])
        self.opt = make_optimizer(self.model, SimpleNamespace(lr=1e-4, encoder_lr_scale=0.3))
        args = SimpleNamespace(seed=seed, batch=cfg["batch"], workers=cfg["workers"], total_steps=10**9,
                               low_res_until=1.0 if cfg["scale"] == 2 else 0.0)
        self.batches = Batches(mix, embedder, args, 0, 0)
        self.loss = losses_per_example if cfg["loss"] == "loop" else losses

    def run(self, steps):
        torch.set_num_threads(self.cfg["threads"])
        autocast = autocast_for("cpu", self.cfg["bf16"])
        t = time.perf_counter()
        for _ in range(steps):
            train_step(self.model, self.opt, self.batches.next(), "cpu", self.cfg["channels_last"], autocast,
                       self.loss)
        return steps * self.cfg["batch"] / (time.perf_counter() - t)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--shared", default="../shared")
    ap.add_argument("--steps", type=int, default=12, help="timed steps per configuration per round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", nargs="*", type=int, default=None, help="row numbers to run (0 = baseline)")
    args = ap.parse_args()
    mix = Mixture(load_sources(args.data))
    embedder = Embedder(phrase_table(mix, args.data, args.shared))
    torch.manual_seed(0)
    init = PeelGenerator().state_dict()
    rows = [(i, n, c) for i, (n, c) in enumerate(configs()) if args.only is None or i in args.only]
    runners = {i: Runner(c, mix, embedder, init, seed=1) for i, _, c in rows}
    for r in runners.values():
        r.run(2)  # warm-up: allocator, thread pools, oneDNN kernels
    rates = {i: [] for i in runners}
    for k in range(args.rounds):
        for i in runners:
            rates[i].append(runners[i].run(args.steps))
        print(f"round {k + 1}: " + " ".join(f"{rates[i][-1]:.1f}" for i in runners), flush=True)
    for r in runners.values():
        r.batches.close()
    base = statistics.median(rates[rows[0][0]])
    print(f"\n{args.steps} steps x {args.rounds} rounds per configuration, interleaved; torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads available\n")
    print("| # | configuration | examples/s (median) | range | x row 0 |")
    print("|---|---|---|---|---|")
    for i, name, cfg in rows:
        med = statistics.median(rates[i])
        print(f"| {i} | {name} | {med:.1f} | {min(rates[i]):.1f}-{max(rates[i]):.1f} | {med / base:.2f} |")


if __name__ == "__main__":
    main()
