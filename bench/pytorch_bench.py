"""PyTorch counterpart of the bench's C# worker: the same networks, batch and step, one row per run.

    python3 bench/pytorch_bench.py step:resnet18:64:128:64 [--warmup 2 --steps 5]
    python3 bench/pytorch_bench.py encode:resnet18:64:256
    python3 bench/pytorch_bench.py drift:resnet18:16:64:64 [--warmup 20 --steps 200]
    python3 bench/pytorch_bench.py step:resnet18:16:64:128:cl        (channels-last: PyTorch at its best in float32)
    python3 bench/pytorch_bench.py step:resnet18:16:64:128:cl:bf16   (channels-last under CPU bf16 autocast)

Prints one JSON line: images/s (median step), peak resident memory, and resident memory after
warm-up and at the end. The C# bench driver runs this and its own worker alternately.
"""
import argparse
import json
import math
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'python'))
from reference_nets import VAE  # noqa: E402


def rss_mb():
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def log_prob(x, mean, std):
    return -((x - mean) ** 2) / (2 * std ** 2) - torch.log(std) - 0.5 * math.log(2 * math.pi)


def vae_step(model, x, original, autocast):
    """The AAVAE objective with one posterior sample and kl_coeff 0 (the paper's AAVAE), as the reference's vae.py.

    The original image's no-grad pass and the gradient pass run in separate autocast regions: in one
    region PyTorch 1.13 reuses the bf16 weight casts made under no_grad, and every encoder convolution
    weight then gets no gradient (a cheaper, wrong step; main() checks that every gradient exists).
    """
    with torch.no_grad(), autocast():
        mu_o, logvar_o = model.projection(model.encoder(original))
        std_o = torch.exp(logvar_o.float() / 2) + 1e-6
        mu_o = mu_o.float()
    with autocast():
        return _gradient_pass(model, x, original, mu_o, std_o)


def _gradient_pass(model, x, original, mu_o, std_o):
    mu, logvar = model.projection(model.encoder(x))
    std = torch.exp(logvar / 2) + 1e-6
    z = mu + std * torch.randn_like(mu)
    kl = (torch.log(1 / std) + (std ** 2 + mu ** 2) / 2 - 0.5).sum(-1)
    log_pz = log_prob(z, torch.zeros_like(z), torch.ones_like(z)).sum(-1)
    log_qz = log_prob(z, mu, std).sum(-1)
    with torch.no_grad():
        z_o = mu_o + std_o * torch.randn_like(mu_o)
        cos = F.cosine_similarity(z_o, z, dim=1, eps=1e-6)
    kl_aug = (torch.log(std_o / std) + (std ** 2 + (mu - mu_o) ** 2) / (2 * std_o ** 2) - 0.5).sum(-1)
    x_hat = model.decoder(z)
    pixel_std = torch.exp(model.log_scale / 2) + 1e-6
    log_pxz = log_prob(original, x_hat, pixel_std).sum(dim=(1, 2, 3))
    loss = (0.0 * kl - log_pxz).mean()
    # The metrics the trainer logs, so both sides do the same work.
    _ = [t.mean().item() for t in (kl, log_pz, log_qz, cos, kl_aug, log_pxz)]
    return loss


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('row')
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--steps', type=int, default=5)
    parser.add_argument('--threads', type=int, default=os.cpu_count())
    args = parser.parse_args()
    # Debian's build starts with one thread; both sides of the comparison use the same number.
    torch.set_num_threads(args.threads)
    fields = args.row.split(':')
    # Optional trailing fields: 'cl' (channels-last model and inputs), 'bf16' (CPU bf16 autocast).
    bf16 = fields[-1] == 'bf16'
    fields = fields[:-1] if bf16 else fields
    channels_last = fields[-1] == 'cl'
    fields = fields[:-1] if channels_last else fields
    kind, encoder, width, *rest = fields
    # The ONNX Runtime rows' peer is PyTorch's encoder forward at its best: channels-last.
    channels_last = channels_last or kind == 'onnx'
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    width = int(width)
    torch.manual_seed(0)

    def autocast():
        return torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16)

    times, rss_after_warmup = [], 0.0
    if kind in ('step', 'drift'):
        latent, batch = int(rest[0]), int(rest[1])
        model = VAE(encoder, width=width, latent_dim=latent).to(memory_format=memory_format)
        model.train()
        adam = torch.optim.Adam(model.parameters(), lr=2.5e-4)
        x = torch.randn(batch, 3, 32, 32).contiguous(memory_format=memory_format)
        original = torch.randn(batch, 3, 32, 32).contiguous(memory_format=memory_format)
        for i in range(args.warmup + args.steps):
            if i == args.warmup:
                rss_after_warmup = rss_mb()
            start = time.perf_counter()
            adam.zero_grad()
            loss = vae_step(model, x, original, autocast)
            loss.backward()
            if i == 0:
                missing = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
                if missing:
                    sys.exit(f'pytorch_bench: the step left {len(missing)} parameters without a gradient ({missing[0]}, ...)')
            adam.step()
            if i >= args.warmup:
                times.append(time.perf_counter() - start)
    elif kind in ('encode', 'onnx'):
        batch = int(rest[0])
        model = VAE(encoder, width=width).to(memory_format=memory_format)
        model.eval()
        x = torch.randn(batch, 3, 32, 32).contiguous(memory_format=memory_format)
        for i in range(args.warmup + args.steps):
            if i == args.warmup:
                rss_after_warmup = rss_mb()
            start = time.perf_counter()
            with torch.inference_mode(), autocast():
                model.encoder(x)
            if i >= args.warmup:
                times.append(time.perf_counter() - start)
    else:
        raise SystemExit(f'unknown row kind {kind}')

    times.sort()
    median = times[len(times) // 2]
    print(json.dumps({
        'row': args.row, 'impl': f'pytorch {torch.__version__}', 'images_per_second': batch / median,
        'median_seconds': median, 'peak_rss_mb': peak_mb(), 'rss_after_warmup_mb': rss_after_warmup, 'rss_end_mb': rss_mb(),
        'threads': torch.get_num_threads(),
    }))


if __name__ == '__main__':
    main()
