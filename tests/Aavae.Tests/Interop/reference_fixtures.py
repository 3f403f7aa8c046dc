"""PyTorch side of the parity tests.

Builds the reference's networks (encoder after SwAV's resnet50.py, the AAVAE decoder and the VAE
projection head, written here from the reference's definitions, with its parameter names), saves
a PyTorch-Lightning-style checkpoint and what the networks compute for a fixed batch, or checks a
file that the C# side exported.

    python3 reference_fixtures.py make OUT_DIR ENCODER       # writes OUT_DIR/ENCODER.ckpt, OUT_DIR/ENCODER.expected.pt
    python3 reference_fixtures.py check-pt FILE REFERENCE.ckpt ENCODER
    python3 reference_fixtures.py check-safetensors FILE REFERENCE.ckpt ENCODER
"""
import collections
import json
import struct
import sys
import types

import torch
import torch.nn as nn
import torch.nn.functional as F


# --- encoder (reference src/models/resnet.py) -------------------------------------------------

def conv3x3(i, o, stride=1):
    return nn.Conv2d(i, o, kernel_size=3, stride=stride, padding=1, bias=False)


def conv1x1(i, o, stride=1):
    return nn.Conv2d(i, o, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv1x1(inplanes, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = conv1x1(planes, planes * 4)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    def __init__(self, block, layers, width=64):
        super().__init__()
        self.inplanes = width
        self.conv1 = nn.Conv2d(3, width, kernel_size=3, stride=1, padding=1, bias=False)  # first_conv3x3
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=1, stride=1)  # remove_first_maxpool
        self.layer1 = self._make_layer(block, width, layers[0])
        self.layer2 = self._make_layer(block, width * 2, layers[1], stride=2)
        self.layer3 = self._make_layer(block, width * 4, layers[2], stride=2)
        self.layer4 = self._make_layer(block, width * 8, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))

    def _make_layer(self, block, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride), nn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return torch.flatten(self.avgpool(x), 1)


# --- decoder (reference src/models/decoder.py) ------------------------------------------------

class Interpolate(nn.Module):
    def __init__(self, size=None):
        super().__init__()
        self.size = size

    def forward(self, x):
        if self.size is None:
            return F.interpolate(x, scale_factor=2, mode='nearest')
        return F.interpolate(x, size=(self.size, self.size), mode='nearest')


def dconv3x3(i, o):
    return nn.Conv2d(i, o, kernel_size=3, padding=1, bias=True)


def dconv1x1(i, o):
    return nn.Conv2d(i, o, kernel_size=1, bias=True)


class DecoderBasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, upsample=None, upscale=None):
        super().__init__()
        self.conv1 = dconv3x3(inplanes, planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = dconv3x3(planes, planes)
        self.upsample = upsample
        self.upscale = upscale

    def forward(self, x):
        out = x if self.upscale is None else self.upscale(x)
        out = self.conv2(self.relu(self.conv1(out)))
        identity = x if self.upsample is None else self.upsample(x)
        return self.relu(out + identity)


class DecoderBottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, upsample=None, upscale=None):
        super().__init__()
        self.conv1 = dconv1x1(inplanes, planes)
        self.conv2 = dconv3x3(planes, planes)
        self.conv3 = dconv1x1(planes, planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.upsample = upsample
        self.upscale = upscale

    def forward(self, x):
        out = self.relu(self.conv1(x))
        if self.upscale is not None:
            out = self.upscale(out)
        out = self.conv3(self.relu(self.conv2(out)))
        identity = x if self.upsample is None else self.upsample(x)
        return self.relu(out + identity)


class Decoder(nn.Module):
    def __init__(self, block, layers, input_height=32, latent_dim=128, h_dim=2048, width=64):
        super().__init__()
        self.h_dim = h_dim
        self.inplanes = h_dim
        self.linear_projection1 = nn.Linear(latent_dim, h_dim)
        self.linear_projection2 = nn.Linear(h_dim, h_dim)
        self.relu = nn.ReLU(inplace=True)
        self.conv1 = dconv1x1(h_dim // 16, h_dim)
        filters = 8 * width
        self.layer1 = self._make_layer(block, filters // 2, layers[0], Interpolate(size=input_height // 8))
        self.layer2 = self._make_layer(block, filters // 4, layers[1], Interpolate())
        self.layer3 = self._make_layer(block, filters // 8, layers[2], Interpolate())
        self.layer4 = self._make_layer(block, filters // 16, layers[3], Interpolate())
        self.conv2 = dconv3x3(filters // 16 * block.expansion, width)
        self.final_conv = dconv3x3(width, 3)

    def _make_layer(self, block, planes, blocks, upscale):
        upsample = nn.Sequential(upscale, dconv1x1(self.inplanes, planes * block.expansion))
        layers = [block(self.inplanes, planes, upsample, upscale)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, z):
        x = self.relu(self.linear_projection2(self.relu(self.linear_projection1(z))))
        x = self.relu(self.conv1(x.view(x.size(0), self.h_dim // 16, 4, 4)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.final_conv(self.relu(self.conv2(x)))


class ProjectionHeadVAE(nn.Module):
    def __init__(self, input_dim, hidden_dim, output_dim):
        super().__init__()
        self.first_layer = nn.Sequential(nn.Linear(input_dim, hidden_dim), nn.BatchNorm1d(hidden_dim), nn.ReLU())
        self.mu = nn.Linear(hidden_dim, output_dim, bias=False)
        self.logvar = nn.Linear(hidden_dim, output_dim, bias=False)

    def forward(self, x):
        x = self.first_layer(x)
        return self.mu(x), self.logvar(x)


class VAE(nn.Module):
    def __init__(self, encoder_name):
        super().__init__()
        if encoder_name == 'resnet18':
            self.encoder, h, self.decoder_args = ResNet(BasicBlock, [2, 2, 2, 2]), 512, (DecoderBasicBlock, [2, 2, 2, 2])
        else:
            self.encoder, h, self.decoder_args = ResNet(Bottleneck, [3, 4, 6, 3]), 2048, (DecoderBottleneck, [3, 6, 4, 3])
        self.projection = ProjectionHeadVAE(h, h, 128)
        self.decoder = Decoder(*self.decoder_args, h_dim=h)
        self.log_scale = nn.Parameter(torch.Tensor([0.0]))
        del self.decoder_args


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
                            learning_rate=2.5e-4, max_epochs=3200)
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
