"""Latency of a ~14B video-DiT forward pass on a real GPU, by batch size.

This grounds the simulated device's profiles (worker/sim-profiles.ts) in a
measurement. It builds a DiT with the shapes of the large open video models
(40 blocks, hidden 5120, 40 heads, FFN 13824, self-attention over the window's
tokens plus cross-attention to 512 text tokens; ~14.0e9 parameters) with
random bf16 weights, and times one forward pass for batches of native windows
(16 x 32 x 32 latent with 1x2x2 patches = 4096 tokens per window). Random
weights cost the same FLOPs and bytes as trained ones.

Run on a GPU node (needs PyTorch with CUDA):

    python3 bench/gpu/dit_latency.py [--blocks 40] [--batches 1,2,4,8] [--reps 3]

Prints one JSON line per batch size and a least-squares fit
`ms(batch) = fixed + per_item * batch`, the form of a simulated profile.
"""

import argparse
import json
import time

import torch
import torch.nn.functional as F


class Block(torch.nn.Module):
    def __init__(self, dim: int, heads: int, ffn: int, **made):
        super().__init__()
        self.heads = heads
        self.qkv = torch.nn.Linear(dim, 3 * dim, **made)
        self.proj = torch.nn.Linear(dim, dim, **made)
        self.q_cross = torch.nn.Linear(dim, dim, **made)
        self.kv_cross = torch.nn.Linear(dim, 2 * dim, **made)
        self.proj_cross = torch.nn.Linear(dim, dim, **made)
        self.fc1 = torch.nn.Linear(dim, ffn, **made)
        self.fc2 = torch.nn.Linear(ffn, dim, **made)

    def attend(self, q, k, v):
        b, n, d = q.shape
        h = self.heads
        q = q.view(b, n, h, d // h).transpose(1, 2)
        k = k.view(b, k.shape[1], h, d // h).transpose(1, 2)
        v = v.view(b, v.shape[1], h, d // h).transpose(1, 2)
        if hasattr(F, "scaled_dot_product_attention"):  # PyTorch 2: flash / memory-efficient kernels
            out = F.scaled_dot_product_attention(q, k, v)
        else:  # older PyTorch (CPU smoke test only)
            out = torch.softmax(q @ k.transpose(-1, -2) / (d // h) ** 0.5, dim=-1) @ v
        return out.transpose(1, 2).reshape(b, n, d)

    def forward(self, x, text, modulation):
        # adaLN: shift, scale and gate from the timestep embedding (one projection shared by all blocks).
        shift1, scale1, gate1, shift2, scale2, gate2 = modulation
        h = F.layer_norm(x, x.shape[-1:]) * (1 + scale1) + shift1
        q, k, v = self.qkv(h).chunk(3, dim=-1)
        x = x + gate1 * self.proj(self.attend(q, k, v))
        h = F.layer_norm(x, x.shape[-1:])
        kc, vc = self.kv_cross(text).chunk(2, dim=-1)
        x = x + self.proj_cross(self.attend(self.q_cross(h), kc, vc))
        h = F.layer_norm(x, x.shape[-1:]) * (1 + scale2) + shift2
        return x + gate2 * self.fc2(F.gelu(self.fc1(h), approximate="tanh"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--blocks", type=int, default=40)
    ap.add_argument("--dim", type=int, default=5120)
    ap.add_argument("--heads", type=int, default=40)
    ap.add_argument("--ffn", type=int, default=13824)
    ap.add_argument("--tokens", type=int, default=4096, help="tokens per window (16x32x32 latent, 1x2x2 patches)")
    ap.add_argument("--text-tokens", type=int, default=512)
    ap.add_argument("--batches", default="1,2,4,8")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--device", default="cuda", help="cpu only checks that the script runs (use tiny --blocks/--dim)")
    args = ap.parse_args()

    dev = torch.device(args.device)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    torch.manual_seed(0)
    # Parameters made in bf16 on the GPU directly (28 GB; float32 first would need 84 GB at the peak).
    made = {"device": dev, "dtype": torch.bfloat16}
    blocks = torch.nn.ModuleList(Block(args.dim, args.heads, args.ffn, **made) for _ in range(args.blocks))
    patch_in = torch.nn.Linear(16 * 4, args.dim, **made)  # 1x2x2 patches of 16 latent channels
    patch_out = torch.nn.Linear(args.dim, 16 * 4, **made)
    time_proj = torch.nn.Linear(args.dim, 6 * args.dim, **made)
    modules = (blocks, patch_in, patch_out, time_proj)
    params = sum(p.numel() for m in modules for p in m.parameters())
    d, n, t = args.dim, args.tokens, args.text_tokens
    # FLOPs per window: linear layers on the window's tokens, cross-attention keys/values on the text,
    # self-attention (QK^T and AV) over the window and cross-attention to the text.
    flops_per_item = args.blocks * (2 * n * (6 * d * d + 2 * d * args.ffn) + 2 * t * 2 * d * d + 4 * n * n * d + 4 * n * t * d)
    print(json.dumps({"gpu": torch.cuda.get_device_name(0) if dev.type == "cuda" else "cpu", "torch": torch.__version__, "params": params,
                      "blocks": args.blocks, "dim": args.dim, "tokens": args.tokens,
                      "tflop_per_item": round(flops_per_item / 1e12, 1)}), flush=True)

    def forward(batch: int) -> None:
        x = patch_in(torch.randn(batch, args.tokens, 64, device=dev, dtype=torch.bfloat16))
        text = torch.randn(batch, args.text_tokens, args.dim, device=dev, dtype=torch.bfloat16)
        modulation = time_proj(torch.randn(batch, args.dim, device=dev, dtype=torch.bfloat16)).unsqueeze(1).chunk(6, dim=-1)
        for blk in blocks:
            x = blk(x, text, modulation)
        patch_out(x)

    points = []
    with torch.inference_mode():
        forward(1)  # warm-up: kernels chosen, workspace allocated
        sync()
        for b in [int(v) for v in args.batches.split(",")]:
            forward(b)
            sync()
            times = []
            for _ in range(args.reps):
                t0 = time.perf_counter()
                forward(b)
                sync()
                times.append((time.perf_counter() - t0) * 1000)
            ms = sorted(times)[len(times) // 2]
            points.append((b, ms))
            flops = flops_per_item * b
            print(json.dumps({"batch": b, "ms": round(ms, 1), "all_ms": [round(t, 1) for t in times],
                              "tflops": round(flops / ms / 1e9, 1)}), flush=True)

    n = len(points)
    if n >= 2:
        mb = sum(b for b, _ in points) / n
        mm = sum(m for _, m in points) / n
        per_item = sum((b - mb) * (m - mm) for b, m in points) / sum((b - mb) ** 2 for b, _ in points)
        print(json.dumps({"fit": {"fixed_ms": round(mm - per_item * mb, 1), "per_item_ms": round(per_item, 1)}}), flush=True)


if __name__ == "__main__":
    main()
