"""PyTorch side of the parity tests.

Builds the reference's networks (python/reference_nets.py, copied next to this script), saves
a PyTorch-Lightning-style checkpoint and what the networks compute for a fixed batch, or checks a
file that the C# side exported.

    python3 reference_fixtures.py make OUT_DIR ENCODER       # writes OUT_DIR/ENCODER.ckpt, OUT_DIR/ENCODER.expected.pt
    python3 reference_fixtures.py check-pt FILE REFERENCE.ckpt ENCODER
    python3 reference_fixtures.py check-safetensors FILE REFERENCE.ckpt ENCODER
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


if __name__ == '__main__':
    command = sys.argv[1]
    if command == 'make':
        make(sys.argv[2], sys.argv[3])
    elif command == 'check-pt':
        compare(dict(torch.load(sys.argv[2])), sys.argv[3], sys.argv[4])
    elif command == 'check-safetensors':
        compare(read_safetensors(sys.argv[2]), sys.argv[3], sys.argv[4])
    else:
        raise SystemExit(f'unknown command {command}')
