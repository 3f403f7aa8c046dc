"""The reference's networks in PyTorch (encoder after SwAV's resnet50.py, the AAVAE decoder, the VAE
projection head), written from the reference's definitions with its parameter names and its three
stems: cifar (3x3 first conv, no max-pool), stl10 (7x7 stride 2, no max-pool) and imagenet (7x7
stride 2 and max-pool). Used by the parity tests and by the PyTorch side of the bench.
"""
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


STEMS = {'cifar': (True, True), 'stl10': (False, True), 'imagenet': (False, False)}  # first_conv3x3, remove_first_maxpool


class ResNet(nn.Module):
    def __init__(self, block, layers, width=64, stem='cifar'):
        super().__init__()
        first_conv3x3, remove_first_maxpool = STEMS[stem]
        self.inplanes = width
        if first_conv3x3:
            self.conv1 = nn.Conv2d(3, width, kernel_size=3, stride=1, padding=1, bias=False)
        else:
            self.conv1 = nn.Conv2d(3, width, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        if remove_first_maxpool:
            self.maxpool = nn.MaxPool2d(kernel_size=1, stride=1)
        else:
            self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
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
    def __init__(self, block, layers, input_height=32, latent_dim=128, h_dim=2048, width=64, stem='cifar'):
        super().__init__()
        self.first_conv3x3, self.remove_first_maxpool = STEMS[stem]
        upscale_factor = 8 * (1 if self.first_conv3x3 else 2) * (1 if self.remove_first_maxpool else 2)
        self.h_dim = h_dim
        self.inplanes = h_dim
        self.linear_projection1 = nn.Linear(latent_dim, h_dim)
        self.linear_projection2 = nn.Linear(h_dim, h_dim)
        self.relu = nn.ReLU(inplace=True)
        self.conv1 = dconv1x1(h_dim // 16, h_dim)
        filters = 8 * width
        self.layer1 = self._make_layer(block, filters // 2, layers[0], Interpolate(size=input_height // upscale_factor))
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
        if not self.remove_first_maxpool:
            x = F.interpolate(x, scale_factor=2, mode='nearest')
        x = self.relu(self.conv2(x))
        if not self.first_conv3x3:
            x = F.interpolate(x, scale_factor=2, mode='nearest')
        return self.final_conv(x)


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
    """encoder, decoder, projection and log_scale under the reference's names, registered in the
    reference's order (src/vae.py), which numbers the parameters of a torch.optim state; width 64
    is the reference. decoder_name defaults to the encoder's own; the reference builds decoder50."""

    def __init__(self, encoder_name, width=64, latent_dim=128, input_height=32, stem='cifar', decoder_name=None):
        super().__init__()
        if encoder_name == 'resnet18':
            self.encoder, h = ResNet(BasicBlock, [2, 2, 2, 2], width, stem), 8 * width
        elif encoder_name == 'resnet50':
            self.encoder, h = ResNet(Bottleneck, [3, 4, 6, 3], width, stem), 32 * width
        else:
            raise ValueError(f'unsupported encoder {encoder_name}')
        decoders = {'decoder18': (DecoderBasicBlock, [2, 2, 2, 2]), 'decoder50': (DecoderBottleneck, [3, 6, 4, 3])}
        block, layers = decoders[decoder_name or encoder_name.replace('resnet', 'decoder')]
        self.decoder = Decoder(block, layers, input_height=input_height, latent_dim=latent_dim, h_dim=h, width=width, stem=stem)
        self.projection = ProjectionHeadVAE(h, h, latent_dim)
        self.log_scale = nn.Parameter(torch.Tensor([0.0]))
