"""PyTorch side of the parity tests.

Builds the reference's networks (python/reference_nets.py, copied next to this script), saves
a PyTorch-Lightning-style checkpoint and what the networks compute for a fixed batch, or checks a
file that the C# side exported.

    python3 reference_fixtures.py make OUT_DIR ENCODER       # writes OUT_DIR/ENCODER.ckpt, OUT_DIR/ENCODER.expected.pt
    python3 reference_fixtures.py check-pt FILE REFERENCE.ckpt ENCODER
    python3 reference_fixtures.py check-safetensors FILE REFERENCE.ckpt ENCODER
    python3 reference_fixtures.py step OUT.pt ENCODER WIDTH STEM   # one training step's gradients, in float64
    python3 reference_fixtures.py split OUT.pt N VAL                # random_split(range(N), [N - VAL, VAL]) with seed 42
    python3 reference_fixtures.py run OUT.ckpt EXCLUDE_BN_BIAS      # a reference pre-training checkpoint after one epoch of three
    python3 reference_fixtures.py imagenet-split ROOT OUT.json PER_CLASS  # SSLImagenet's train / val partition of an image folder
"""
import collections
import enum
import json
import pathlib
import struct
import sys
import types

import torch
import torch.nn as nn


from reference_nets import VAE  # noqa: E402


# --- Lightning look-alikes: classes a real .ckpt pickles, under Lightning's module names ---------

def lightning_module(name):
    parts = name.split('.')
    for i in range(1, len(parts) + 1):
        sys.modules.setdefault('.'.join(parts[:i]), types.ModuleType('.'.join(parts[:i])))
    return sys.modules[name]


parsing = lightning_module('pytorch_lightning.utilities.parsing')


class AttributeDict(dict):
    pass


AttributeDict.__module__ = parsing.__name__
parsing.AttributeDict = AttributeDict

callbacks = lightning_module('pytorch_lightning.callbacks.model_checkpoint')


class ModelCheckpoint:
    def __init__(self):
        self.monitor = None
        self.best_model_score = torch.tensor(1.5)
        self.dirpath = '/tmp/lightning_logs/version_0/checkpoints'


ModelCheckpoint.__module__ = callbacks.__name__
callbacks.ModelCheckpoint = ModelCheckpoint

states = lightning_module('pytorch_lightning.trainer.states')


class TrainerFn(str, enum.Enum):
    # An enum pickles as a call with an argument: what a pickle library's default class handling cannot rebuild.
    FITTING = 'fit'


TrainerFn.__module__ = states.__name__
states.TrainerFn = TrainerFn


def make(out_dir, encoder_name):
    torch.manual_seed(0)
    model = VAE(encoder_name)
    # Running statistics away from their initial values, so that evaluation mode is tested.
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
                m.num_batches_tracked.fill_(17)
    model.eval()

    optimizer = torch.optim.Adam(model.parameters(), lr=2.5e-4)
    model.train()
    loss = model.decoder(model.projection(model.encoder(torch.randn(2, 3, 32, 32)))[0]).square().mean()
    loss.backward()
    optimizer.step()
    model.eval()

    hparams = AttributeDict(encoder_name=encoder_name, decoder_name=encoder_name.replace('resnet', 'decoder'),
                            h_dim=512 if encoder_name == 'resnet18' else 2048, latent_dim=128, input_height=32,
                            first_conv3x3=True, remove_first_maxpool=True, kl_coeff=0.0, denoising=True, dataset='cifar10',
                            learning_rate=2.5e-4, max_epochs=3200, data_path=pathlib.PurePosixPath('/data/cifar10'))
    online = nn.Linear(512 if encoder_name == 'resnet18' else 2048, 10)
    state_dict = collections.OrderedDict(model.state_dict())
    state_dict['online_finetuner.weight'] = online.weight.detach()
    state_dict['online_finetuner.bias'] = online.bias.detach()
    checkpoint = {
        'epoch': 3199,
        'global_step': 560000,
        'pytorch-lightning_version': '1.3.8',
        'state_dict': state_dict,
        'callbacks': {ModelCheckpoint: ModelCheckpoint()},
        'optimizer_states': [optimizer.state_dict()],
        'lr_schedulers': [{'last_epoch': 560000, '_step_count': 560001}],
        'hparams_name': 'kwargs',
        'loops': {'fit_loop': {'state_dict': {}, 'stage': TrainerFn.FITTING}},
        'hyper_parameters': hparams,
    }
    torch.save(checkpoint, f'{out_dir}/{encoder_name}.ckpt')

    torch.manual_seed(1)
    x = torch.randn(4, 3, 32, 32)
    with torch.no_grad():
        features = model.encoder(x)
        mu, logvar = model.projection(features)
        reconstruction = model.decoder(mu)
    torch.save({'x': x, 'features': features, 'mu': mu, 'logvar': logvar, 'reconstruction': reconstruction},
               f'{out_dir}/{encoder_name}.expected.pt')


def training_step(out, encoder_name, width, stem):
    """One AAVAE training step as the reference's VAE.step() computes it (src/vae.py: the original
    image's posterior without gradient, the augmented view's with it, one reparameterised sample,
    kl_coeff * kl - log p(x|z)), with given noise, in float64: the truth a float32 step is judged by.
    The weights, inputs and noise are saved in float32, exactly as the float64 step used them."""
    input_height, latent_dim, kl_coeff, batch = (32 if stem == 'cifar' else 64), 16, 0.1, 4
    torch.manual_seed(0)
    model = VAE(encoder_name, width=width, latent_dim=latent_dim, input_height=input_height, stem=stem)
    with torch.no_grad():
        model.log_scale.fill_(0.3)
    x = torch.rand(batch, 3, input_height, input_height)
    original = torch.rand(batch, 3, input_height, input_height)
    eps = torch.randn(batch, latent_dim)
    eps_original = torch.randn(batch, latent_dim)
    weights = {k: v.clone() for k, v in model.state_dict().items()}

    def step(model, dtype, bf16):
        """The step in dtype; under bf16 inside PyTorch's CPU autocast, the loss in float32."""
        model = model.to(dtype).train()
        # Two autocast regions: leaving one clears autocast's weight-cast cache. In one region, PyTorch
        # 1.13 reuses the casts made under no_grad for the second pass, and the convolution weights
        # get no gradient at all.
        with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16):
            model.projection(model.encoder(original.to(dtype)))
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16):
            mu, log_var = model.projection(model.encoder(x.to(dtype)))
            mu, log_var = mu.to(dtype), log_var.to(dtype)
            std = torch.exp(log_var / 2.) + 1e-6
            p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(std))
            q = torch.distributions.Normal(mu, std)
            z = mu + std * eps.to(dtype)  # q.rsample() with this noise
            kl = torch.distributions.kl.kl_divergence(q, p).sum(dim=-1)
            x_hat = model.decoder(z).to(dtype)
        scale = torch.exp(model.log_scale / 2.) + 1e-6
        log_pxz = torch.distributions.Normal(x_hat, scale).log_prob(original.to(dtype)).sum(dim=(1, 2, 3))
        loss = (kl_coeff * kl - log_pxz).mean()
        loss.backward()
        return loss.detach(), {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}

    loss, grads = step(model, torch.float64, False)
    # PyTorch's own bf16 autocast step from the same weights: how far bf16 mixed precision lands
    # from the float64 truth, the yardstick for this project's bf16-mixed step.
    model_bf16 = VAE(encoder_name, width=width, latent_dim=latent_dim, input_height=input_height, stem=stem)
    model_bf16.load_state_dict(weights)
    loss_bf16, grads_bf16 = step(model_bf16, torch.float32, True)
    torch.save({'weights': weights, 'x': x, 'original': original, 'noise': [eps, eps_original],
                'kl_coeff': kl_coeff, 'latent_dim': latent_dim, 'loss': loss, 'grads': grads,
                'loss_bf16': loss_bf16, 'grads_bf16': grads_bf16}, out)


def split(out, n, val):
    """The reference's train/validation split (its datamodules: random_split with a generator seeded 42)."""
    train, held_out = torch.utils.data.random_split(range(n), [n - val, val], generator=torch.Generator().manual_seed(42))
    torch.save({'train': torch.tensor(train.indices), 'val': torch.tensor(held_out.indices)}, out)


def lightning_run(out, exclude_bn_bias):
    """What the reference's vae.py saves after its first epoch of three (Lightning 1.3, as its
    requirements pin Lightning's master of mid-2021): the VAE's state_dict, its Adam state in
    torch.optim's layout (parameters numbered in the order configure_optimizers passes them: all
    of self.parameters(), or exclude_from_wt_decay's two groups), the LambdaLR state, and
    Lightning's epoch and global_step, which that version stores one ahead. Fashion-MNIST is named
    as the data set: the only one on a fresh machine; its images are 32x32 like CIFAR-10's."""
    torch.manual_seed(0)
    width, latent_dim, batch, steps, lr, weight_decay = 4, 8, 16, 3, 1e-3, (1e-4 if exclude_bn_bias else 0.)
    model = VAE('resnet18', width=width, latent_dim=latent_dim, decoder_name='decoder50')
    model.log_scale.requires_grad = False  # learn_scale 0
    if exclude_bn_bias:
        named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        skip = lambda n: 'bias' in n or 'bn' in n  # noqa: E731
        params = [{'params': [p for n, p in named if not skip(n)], 'weight_decay': weight_decay},
                  {'params': [p for n, p in named if skip(n)], 'weight_decay': 0.}]
    else:
        params = model.parameters()
    optimizer = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    model.train()
    for _ in range(steps):
        x = torch.rand(batch, 3, 32, 32)
        mu, log_var = model.projection(model.encoder(x))
        z = mu + torch.exp(log_var / 2) * torch.randn_like(mu)
        loss = (model.decoder(z) - x).square().mean() + 1e-3 * log_var.square().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    hparams = AttributeDict(encoder_name='resnet18', decoder_name='decoder50', h_dim=8 * width, latent_dim=latent_dim, input_height=32,
                            first_conv3x3=True, remove_first_maxpool=True, kl_coeff=0.0, denoising=True, log_scale=0.0, learn_scale=0,
                            val_samples=1, optimizer='adam', learning_rate=lr, weight_decay=weight_decay, exclude_bn_bias=exclude_bn_bias,
                            warmup_epochs=1, max_epochs=3, cosine_decay=0, linear_decay=0, gpus=0, online_ft=False, seed=0,
                            dataset='fashion-mnist', data_path='.', batch_size=batch, num_samples=55000, jitter_strength=0.25)
    torch.save({
        'epoch': 1,
        'global_step': steps + 1,
        'pytorch-lightning_version': '1.3.8',
        'state_dict': collections.OrderedDict(model.state_dict()),
        'callbacks': {ModelCheckpoint: ModelCheckpoint()},
        'optimizer_states': [optimizer.state_dict()],
        'lr_schedulers': [{'last_epoch': steps, '_step_count': steps + 1, 'base_lrs': [lr] * len(optimizer.param_groups)}],
        'hparams_name': 'kwargs',
        'hyper_parameters': hparams,
    }, out)
    state = {name: optimizer.state[p] for name, p in model.named_parameters() if p in optimizer.state}
    torch.save({'exp_avg': {n: s['exp_avg'] for n, s in state.items()}, 'exp_avg_sq': {n: s['exp_avg_sq'] for n, s in state.items()},
                'step': {n: float(s['step']) for n, s in state.items()}}, out + '.expected.pt')


def imagenet_split(root, out, per_class):
    """The reference's SSLImagenet partition (src/datamodules/imagenet_dataset.py) of ROOT/train:
    torchvision's ImageFolder list (sorted classes, sorted walk, sorted file names), shuffled by
    np.random.seed(1234); np.random.shuffle, the first PER_CLASS images of each class validating."""
    import os
    import numpy as np
    split_root = os.path.join(root, 'train')
    classes = sorted(e.name for e in os.scandir(split_root) if e.is_dir())
    imgs = []
    for idx, c in enumerate(classes):
        for walk_root, _, names in sorted(os.walk(os.path.join(split_root, c), followlinks=True)):
            for name in sorted(names):
                if name.lower().endswith(('.png', '.jpg', '.jpeg')):
                    imgs.append((os.path.relpath(os.path.join(walk_root, name), split_root), idx))
    np.random.seed(1234)
    np.random.shuffle(imgs)
    counts = {i: 0 for i in range(len(classes))}
    train, val = [], []
    for name, idx in imgs:
        if counts[idx] < per_class:
            val.append(name)
            counts[idx] += 1
        else:
            train.append(name)
    with open(out, 'w') as f:
        json.dump({'train': train, 'val': val}, f)


def reference_state(reference):
    state = torch.load(reference)['state_dict']
    return {k: v for k, v in state.items() if not k.startswith('online_finetuner.')}


def compare(loaded, reference, encoder_name):
    expected = reference_state(reference)
    if set(loaded) != set(expected):
        raise SystemExit(f'keys differ: only exported {sorted(set(loaded) - set(expected))[:5]}, only reference {sorted(set(expected) - set(loaded))[:5]}')
    for k, v in expected.items():
        if loaded[k].dtype != v.dtype or loaded[k].shape != v.shape or not torch.equal(loaded[k], v):
            raise SystemExit(f'{k} differs')
    model = VAE(encoder_name)
    model.load_state_dict(loaded)  # strict: every name and shape of the reference networks
    print(f'ok: {len(loaded)} tensors identical')


def read_safetensors(path):
    # Independent reader: 8-byte little-endian header length, JSON header, raw little-endian data.
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    dtypes = {'F32': torch.float32, 'I64': torch.int64, 'F64': torch.float64}
    out = {}
    for name, info in header.items():
        if name == '__metadata__':
            continue
        start, end = info['data_offsets']
        t = torch.frombuffer(bytearray(data[start:end]), dtype=dtypes[info['dtype']]) if end > start else torch.empty(0, dtype=dtypes[info['dtype']])
        out[name] = t.reshape(info['shape'])
    return out


def checksums(path):
    """Every state_dict tensor of a checkpoint must load contiguous, as PyTorch's own files do; one
    position-weighted checksum per key shows its values sit at the right indices."""
    content = torch.load(path)
    for k, t in content['state_dict'].items():
        if not t.is_contiguous():
            raise SystemExit(f'{k} is not contiguous: strides {t.stride()}')
        w = torch.arange(t.numel(), dtype=torch.float64).reshape(t.shape)
        print(k, repr(float((t.double() * w).sum())))
    for state in content.get('optimizer_states', []):
        for moments in state['state'].values():
            for name, t in moments.items():
                if torch.is_tensor(t) and not t.is_contiguous():
                    raise SystemExit(f'optimizer {name} is not contiguous: strides {t.stride()}')


if __name__ == '__main__':
    command = sys.argv[1]
    if command == 'make':
        make(sys.argv[2], sys.argv[3])
    elif command == 'check-pt':
        compare(dict(torch.load(sys.argv[2])), sys.argv[3], sys.argv[4])
    elif command == 'step':
        training_step(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
    elif command == 'run':
        lightning_run(sys.argv[2], sys.argv[3].lower() == 'true')
    elif command == 'imagenet-split':
        imagenet_split(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif command == 'split':
        split(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif command == 'checksums':
        checksums(sys.argv[2])
    elif command == 'check-safetensors':
        compare(read_safetensors(sys.argv[2]), sys.argv[3], sys.argv[4])
    else:
        raise SystemExit(f'unknown command {command}')
