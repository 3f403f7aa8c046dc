"""The peer a user would pick instead of this project: the reference's AAVAE pipeline (its vae.py,
data module, transforms and linear_eval.py) written in plain PyTorch, with this project's
Fashion-MNIST settings, pre-training for a wall-clock budget and then evaluating, so that

    aavae pretrain --preset cpu-small --max-time 15m --linear-eval cached

compares with

    /usr/bin/python3 bench/pytorch_pipeline.py --minutes 15 [--bf16] [--channels-last] [--out FILE]
    /usr/bin/python3 bench/pytorch_pipeline.py --smoke                 (a few steps and batches: under a minute)

at equal wall time. Needs Debian's python3-torch (1.13) and python3-torchvision (0.14); Lightning is
not used. Prints one line per phase with the seconds since the process started, then one JSON object
(also written to --out): accuracy against wall time. Its seconds: pretrain_seconds from the first
step to the last validation (the planning's timings included), eval_seconds the cached evaluation,
total_seconds the whole process (the reference protocol's too, when asked for); images_per_second
counts the training steps and their data loading, not validation or planning; epochs is steps / 429.

What it mirrors
- Data (FashionMnist.cs, Splits.cs): the official IDX files (gzipped or not) in data/fashion-mnist;
  each 28x28 grey picture zero-padded by 2 to 32x32 and replicated to RGB before any transform (as
  Views.ToUnitRange does). Train 55,000 / val 5,000 from torch.utils.data.random_split of the 60,000
  training images with a generator seeded 42 (the reference's data modules; Splits.RandomSplit gives
  the same indices, which the project's SplitParityTests check against PyTorch 1.13). Test 10,000.
- Pre-training views (transforms.py SimCLRTransform and OriginalTransform, compose.py TrainTransform
  with denoising): the encoder sees RandomResizedCrop(32, scale 0.08-1), flip p 0.5, ColorJitter(0.4,
  0.4, 0.4, 0.1) p 0.8, RandomGrayscale p 0.2, no blur (AugmentationOptions: crop scale 0.08;
  DatasetInfo.FashionMnist: jitter strength 0.5, no blur, as vae.py sets for CIFAR-10), ToTensor,
  Normalize(0.2860, 0.3530). vae.py's `original` is the same picture through OriginalTransform
  (ToTensor, Normalize): the decoder reconstructs it and its encoding is q_orig.
- Loader (cifar10.py): batch 128, shuffled, drop_last (429 steps an epoch), --workers processes.
- Model and step (preset cpu-small; reference_nets.py; pytorch_bench.vae_step): resnet18 encoder with
  the CIFAR stem, decoder18, width 32, latent 64, one posterior sample, kl_coeff 0 (AAVAE), log_scale
  fixed at 0 (vae.py: --log_scale 0, --learn_scale 0).
- Optimiser (vae.py configure_optimizers, scheduler.py): Adam, lr 3e-3, weight decay 0 in one group
  (cpu-small keeps OptimizerOptions' weight decay 0 and exclude_bn_bias off), a per-step linear
  warm-up over one epoch, then cosine decay to 0 at the last planned step.
- Budget (TimeBudget.cs, TimeBudgetCallback.cs): --minutes is the whole job's time, counted from
  this process's start, with the cached linear evaluation included, as the C# --max-time is. The run
  skips 3 steps (kernel set-up), times the next 10 (data loading included), times the encoder on an
  evaluation batch and the linear layer's step, and from those fixes once the most steps whose
  training, epoch-end validations and cached evaluation fit in the budget less a margin of
  5% + 5 s (at most --epochs x 429 when --epochs is given). The warm-up is then min(429, steps / 2)
  and the cosine ends at the last planned step. As a guard, training also stops once the last
  validation and the evaluation would no longer fit with half the margin left (before the plan: once
  the budget less the whole margin is spent); the JSON's steps then fall short of planned_steps.
- Validation (vae.py validation_step, TrainingLoop.Validate): at every epoch end and when training
  ends, the loss on all 5,000 validation images in eval mode with one sample (val_samples 1); the
  encoder sees the SimCLR view, as the reference's EvalTransform with denoising gives it.
- Evaluation (a), "cached", this project's default (LinearEval.cs, LinearEvalOptions.cs): the frozen
  encoder in eval mode encodes train, val and test once through the evaluation view; the features
  are standardised with the training split's mean and standard deviation (float64, std floored at
  1e-6); Linear(256, 10) trains 90 epochs of shuffled batches of 256 (last batch kept, 215 steps an
  epoch) with SGD, Nesterov momentum 0.9, lr 0.1 x 256 / 256, weight decay 0, cosine over every
  step; val_acc is the best validation top-1 over the epochs, test_acc the final layer's top-1 on
  all 10,000 test images.
- Evaluation (b), the reference's linear_eval.py, behind --reference-eval-epochs N (default 0: off,
  as 90 epochs of augmented views through the encoder take hours on a CPU): each epoch encodes a
  fresh shuffled training view, RandomCrop(32, padding 4, reflect) + flip + ToTensor + Normalize
  (LinearEvalTrainTransform for CIFAR-10, which the C# side uses for Fashion-MNIST), drop_last
  (214 steps an epoch); no standardisation; SGD as above with lr 0.1 x int(256 / 256). It runs after
  the budgeted part and outside it.

Where it differs from the C# pipeline
- The transforms are torchvision's on PIL images, the C# ones are tensor code: the same operations
  and parameter ranges, but PIL's resampling, its integer-rounded grey mean in the contrast jitter
  and 8-bit HSV in the hue jitter round differently, and the random streams differ; runs agree in
  distribution, not bit for bit.
- Precision and layout default to float32 and contiguous tensors, plain PyTorch. cpu-small runs
  bf16-mixed on CPUs with AVX512-BF16 or AMX (precision auto) and channels-last by default: pass
  --bf16 (torch.autocast("cpu", dtype=torch.bfloat16), as pytorch_bench.py) and --channels-last for a
  like-for-like run on such a CPU.
- The plan is made once, from the first steps; the C# side plans again at the end of the first epoch
  from the epoch's steps and its end as measured.
- No checkpoints are written (the C# side writes last.ckpt every epoch); no k-NN score beside the
  linear one (the C# cached evaluation reports one).
- Validation and evaluation use all images; the reference's loaders drop the last partial batch
  (4,992 of 5,000 validation images in pre-training, 4,864 validation and 9,984 test images in
  linear_eval.py).
- In (b) the validation and test features are those encoded for (a), unstandardised: the view is
  deterministic and the encoder frozen, so re-encoding them every epoch as linear_eval.py does would
  give the same features.
"""
import argparse
import gzip
import json
import math
import os
import sys
import time
from dataclasses import dataclass
from itertools import islice

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from PIL import Image
from torch.utils.data import DataLoader, Dataset, random_split
from torchvision import transforms

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, 'python'))
sys.path.insert(0, HERE)
from reference_nets import VAE  # noqa: E402
from pytorch_bench import vae_step  # noqa: E402


def process_start():
    """time.monotonic() at this process's start: the C# budget counts from its process's start, start-up and imports included."""
    with open('/proc/self/stat') as f:
        fields = f.read().rsplit(')', 1)[1].split()  # the fields after the command name, from field 3 (state) on
    started = int(fields[19]) / os.sysconf('SC_CLK_TCK')  # field 22, starttime: clock ticks after boot
    with open('/proc/uptime') as f:
        uptime = float(f.read().split()[0])
    return time.monotonic() - (uptime - started)


JOB_START = process_start()

# Fashion-MNIST as DatasetInfo.FashionMnist and FashionMnist.cs describe it.
SIDE, PADDING, NUM_CLASSES = 28, 2, 10
SIZE = SIDE + 2 * PADDING  # 32, the input height of the CIFAR-sized networks
VAL_COUNT, SPLIT_SEED = 5_000, 42
MEAN, STD = [0.2860] * 3, [0.3530] * 3
JITTER_STRENGTH, CROP_SCALE = 0.5, 0.08

# Preset cpu-small (Presets.cs) with the AAVAE objective.
ENCODER, WIDTH, LATENT = 'resnet18', 32, 64
FEATURE_DIM = 8 * WIDTH  # resnet18's h_dim: width x 8 channels after layer4
BATCH, LEARNING_RATE, WARMUP_EPOCHS = 128, 3e-3, 1

# The linear evaluation (LinearEvalOptions.cs, linear_eval.py).
LINEAR_EPOCHS, LINEAR_BATCH, MOMENTUM = 90, 256, 0.9
LINEAR_LR = 0.1 * LINEAR_BATCH / 256

# The time budget (TimeBudgetCallback.cs, TimeBudget.cs).
SKIPPED_STEPS, TIMED_STEPS = 3, 10

# --smoke: the whole script in well under a minute.
SMOKE_STEPS, SMOKE_BATCHES, SMOKE_EPOCHS = 6, 2, 2


def log(message):
    print(f'[{time.monotonic() - JOB_START:7.1f} s] {message}', flush=True)


# --- data -------------------------------------------------------------------------------------

def read_idx(directory, stem, dims):
    """An IDX file (stem.gz or stem): big-endian magic 0x000008DD, DD sizes, then unsigned bytes."""
    gz, raw = os.path.join(directory, stem + '.gz'), os.path.join(directory, stem)
    path = gz if os.path.exists(gz) else raw
    with (gzip.open(path, 'rb') if path == gz else open(path, 'rb')) as f:
        content = f.read()
    magic = int.from_bytes(content[:4], 'big')
    if magic != 0x800 + dims:
        raise SystemExit(f'{path}: magic number 0x{magic:08X}, expected 0x{0x800 + dims:08X}')
    shape = [int.from_bytes(content[4 + 4 * i:8 + 4 * i], 'big') for i in range(dims)]
    return np.frombuffer(content, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load_part(directory, prefix):
    """Pictures zero-padded to 32x32, as FashionMnist.Load stores them, and their labels."""
    images = read_idx(directory, f'{prefix}-images-idx3-ubyte', 3)
    labels = read_idx(directory, f'{prefix}-labels-idx1-ubyte', 1).astype(np.int64)
    return np.pad(images, ((0, 0), (PADDING, PADDING), (PADDING, PADDING))), labels


class Pictures(Dataset):
    """Some of a part's pictures as RGB PIL images (grey replicated, as the C# views do first) through a transform."""

    def __init__(self, images, labels, indices, transform):
        self.images, self.labels, self.indices, self.transform = images, labels, np.asarray(indices), transform

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, i):
        j = self.indices[i]
        return self.transform(Image.fromarray(self.images[j], mode='L').convert('RGB')), self.labels[j]


@dataclass
class Splits:
    train_images: np.ndarray
    train_labels: np.ndarray
    train_indices: list
    val_indices: list
    test_images: np.ndarray
    test_labels: np.ndarray

    def train(self, transform):
        return Pictures(self.train_images, self.train_labels, self.train_indices, transform)

    def val(self, transform):
        return Pictures(self.train_images, self.train_labels, self.val_indices, transform)

    def test(self, transform):
        return Pictures(self.test_images, self.test_labels, range(len(self.test_labels)), transform)


def load_splits(directory):
    train_images, train_labels = load_part(directory, 'train')
    test_images, test_labels = load_part(directory, 't10k')
    n = len(train_labels)
    # The reference's data modules split so; Splits.RandomSplit reproduces these indices.
    train, val = random_split(range(n), [n - VAL_COUNT, VAL_COUNT], generator=torch.Generator().manual_seed(SPLIT_SEED))
    return Splits(train_images, train_labels, list(train.indices), list(val.indices), test_images, test_labels)


# --- views --------------------------------------------------------------------------------------

def eval_view():
    """OriginalTransform / LinearEvalValidTransform for 32-pixel images: the picture as stored."""
    return transforms.Compose([transforms.ToTensor(), transforms.Normalize(MEAN, STD)])


def simclr_view():
    s = JITTER_STRENGTH
    return transforms.Compose([
        transforms.RandomResizedCrop(size=SIZE, scale=(CROP_SCALE, 1.0)),
        transforms.RandomHorizontalFlip(p=0.5),
        transforms.RandomApply([transforms.ColorJitter(0.8 * s, 0.8 * s, 0.8 * s, 0.2 * s)], p=0.8),
        transforms.RandomGrayscale(p=0.2),
        transforms.ToTensor(),
        transforms.Normalize(MEAN, STD),
    ])


def linear_eval_train_view():
    return transforms.Compose([
        transforms.RandomCrop(SIZE, padding=4, padding_mode='reflect'),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize(MEAN, STD),
    ])


class PretrainViews:
    """TrainTransform / EvalTransform with denoising: (SimCLR view for the encoder, original for the target)."""

    def __init__(self):
        self.input, self.original = simclr_view(), eval_view()

    def __call__(self, picture):
        return self.input(picture), self.original(picture)


def loader(dataset, args, batch, shuffle, drop_last, persistent=False):
    return DataLoader(dataset, batch_size=batch, shuffle=shuffle, drop_last=drop_last, num_workers=args.workers,
                      persistent_workers=persistent and args.workers > 0)


# --- pre-training -------------------------------------------------------------------------------

def lr_factor(step, warmup, total):
    """The reference's linear_warmup_decay with cosine decay (src/optimizers/scheduler.py)."""
    if step < warmup:
        return step / max(1, warmup)
    return 0.5 * (1.0 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))


@dataclass
class Costs:
    """Seconds, as TimeBudget's RunCosts: one step, one epoch's end (validation), and the evaluation after training."""
    step: float
    epoch_end: float
    after: float


def epoch_ends(done, steps, per_epoch):
    return steps // per_epoch - done // per_epoch + (1 if steps % per_epoch and steps > done else 0)


def cost(done, steps, per_epoch, costs):
    return (steps - done) * costs.step + max(1, epoch_ends(done, steps, per_epoch)) * costs.epoch_end + costs.after


def steps_that_fit(done, per_epoch, seconds_left, costs, cap):
    """The most steps, up to cap, whose cost fits in seconds_left (TimeBudget.Steps); done when none does."""
    if cap <= done or cost(done, done, per_epoch, costs) > seconds_left:
        return done
    low, high = done, min(cap, done + math.ceil(seconds_left / max(costs.step, 1e-9)))
    while low < high:  # the cost grows with the steps: bisect
        mid = low + (high - low + 1) // 2
        if cost(done, mid, per_epoch, costs) <= seconds_left:
            low = mid
        else:
            high = mid - 1
    return low


def margin(budget):
    return 0.05 * budget + 5


class Run:
    """The model, its optimiser and the settings a step needs."""

    def __init__(self, args):
        self.args = args
        self.layout = torch.channels_last if args.channels_last else torch.contiguous_format
        self.model = VAE(ENCODER, width=WIDTH, latent_dim=LATENT, input_height=SIZE, stem='cifar').to(memory_format=self.layout)
        self.model.log_scale.requires_grad_(False)  # vae.py: learn_scale 0
        self.adam = torch.optim.Adam([p for p in self.model.parameters() if p.requires_grad], lr=LEARNING_RATE, weight_decay=0.0)

    def autocast(self):
        return torch.autocast('cpu', dtype=torch.bfloat16, enabled=self.args.bf16)

    def to_layout(self, x):
        return x.contiguous(memory_format=self.layout)

    def train_step(self, x, original, lr):
        for group in self.adam.param_groups:
            group['lr'] = lr
        self.adam.zero_grad(set_to_none=True)
        loss = vae_step(self.model, self.to_layout(x), self.to_layout(original), self.autocast)
        loss.backward()
        self.adam.step()
        return loss.item()

    def validate(self, val_loader, limit):
        """Mean validation loss, in eval mode without gradients, as Lightning's validation loop."""
        self.model.eval()
        total, count = 0.0, 0
        with torch.no_grad():
            for (x, original), _ in islice(val_loader, limit):
                total += vae_step(self.model, self.to_layout(x), self.to_layout(original), self.autocast).item() * len(x)
                count += len(x)
        self.model.train()
        return total / count

    def encode_seconds_per_image(self, images):
        """The encoder's evaluation pass per image on one batch, timed on the second and third calls (the first builds kernels)."""
        self.model.eval()
        with torch.no_grad(), self.autocast():
            self.model.encoder(self.to_layout(images))
            start = time.perf_counter()
            for _ in range(2):
                self.model.encoder(self.to_layout(images))
        self.model.train()
        return (time.perf_counter() - start) / (2 * len(images))


def linear_step_seconds(feature_dim):
    """One SGD step of the linear layer on a batch of features, timed over 20 steps after 3; the global generator is left as it was."""
    with torch.random.fork_rng(devices=[]):
        linear = torch.nn.Linear(feature_dim, NUM_CLASSES)
        sgd = torch.optim.SGD(linear.parameters(), lr=LINEAR_LR, momentum=MOMENTUM, nesterov=True)
        features, labels = torch.randn(LINEAR_BATCH, feature_dim), torch.zeros(LINEAR_BATCH, dtype=torch.int64)
        for i in range(23):
            if i == 3:
                start = time.perf_counter()
            loss = F.cross_entropy(linear(features), labels)
            sgd.zero_grad()
            loss.backward()
            sgd.step()
            loss.item()
    return (time.perf_counter() - start) / 20


def estimate_costs(run, step_seconds, splits):
    """Epoch end: validation runs the encoder once and the decoder once (val_samples 1), each about the encoder's cost,
    on every validation image. After training: the cached evaluation encodes every image once and takes 90 epochs of linear steps."""
    images = torch.stack([eval_view()(Image.fromarray(splits.train_images[i], mode='L').convert('RGB')) for i in splits.val_indices[:LINEAR_BATCH]])
    per_image = run.encode_seconds_per_image(images)
    encoded = len(splits.train_indices) + len(splits.val_indices) + len(splits.test_labels)
    linear_steps = math.ceil(len(splits.train_indices) / LINEAR_BATCH) * LINEAR_EPOCHS
    return Costs(step_seconds, len(splits.val_indices) * per_image * 2,
                 encoded * per_image + linear_steps * linear_step_seconds(FEATURE_DIM))


@dataclass
class Plan:
    steps: int
    warmup: int
    train_until: float  # time.monotonic() by which training stops


def make_plan(done, per_epoch, costs, budget, cap):
    left = budget - margin(budget) - (time.monotonic() - JOB_START)
    steps = steps_that_fit(done, per_epoch, left, costs, cap)
    warmup = min(round(per_epoch * WARMUP_EPOCHS), steps // 2)
    # A guard, not the plan: training stops at the latest when the last validation and the evaluation would
    # no longer fit with half the margin left (the plan keeps all of it), as TimeBudgetCallback does.
    return Plan(steps, warmup, JOB_START + budget - margin(budget) / 2 - costs.epoch_end - costs.after)


def pretrain(run, splits, args):
    """Trains to the plan (or --smoke's steps); returns what the JSON reports about it."""
    views = PretrainViews()
    train_loader = loader(splits.train(views), args, BATCH, shuffle=True, drop_last=True, persistent=True)
    val_loader = loader(splits.val(views), args, BATCH, shuffle=False, drop_last=False, persistent=True)
    per_epoch = len(train_loader)
    budget = args.minutes * 60
    cap = args.epochs * per_epoch if args.epochs else sys.maxsize
    warmup = round(per_epoch * WARMUP_EPOCHS)
    if args.smoke:
        plan = Plan(SMOKE_STEPS, min(warmup, SMOKE_STEPS // 2), math.inf)
    else:
        # Until the plan: the configured warm-up, and a stop where the budget less its margin ends.
        plan = Plan(cap, warmup, JOB_START + budget - margin(budget))
    val_limit = SMOKE_BATCHES if args.smoke else None
    start = time.monotonic()
    step, epoch, val_loss, side_seconds = 0, 0, math.nan, 0.0
    while step < plan.steps and time.monotonic() < plan.train_until:
        for (x, original), _ in train_loader:
            loss = run.train_step(x, original, LEARNING_RATE * lr_factor(step, plan.warmup, plan.steps))
            step += 1
            if not args.smoke and step == SKIPPED_STEPS:
                timing_start = time.monotonic()
            if not args.smoke and step == SKIPPED_STEPS + TIMED_STEPS:
                planning_start = time.monotonic()
                costs = estimate_costs(run, (planning_start - timing_start) / TIMED_STEPS, splits)
                plan = make_plan(step, per_epoch, costs, budget, cap)
                side_seconds += time.monotonic() - planning_start
                log(f'plan: {plan.steps} steps ({plan.steps / per_epoch:.2f} epochs), warm-up {plan.warmup}, cosine to the last step; '
                    f'{costs.step:.3f} s a step, {costs.epoch_end:.1f} s an epoch end, {costs.after:.0f} s of cached linear evaluation')
            if step >= plan.steps or time.monotonic() >= plan.train_until:
                break
        validation_start = time.monotonic()
        val_loss = run.validate(val_loader, val_limit)
        side_seconds += time.monotonic() - validation_start
        epoch += 1
        log(f'epoch {epoch}: step {step}, train loss {loss:.1f}, val loss {val_loss:.1f}')
    seconds = time.monotonic() - start
    return {'steps': step, 'planned_steps': plan.steps, 'warmup_steps': plan.warmup, 'batches_per_epoch': per_epoch,
            'epochs': step / per_epoch, 'val_loss': val_loss, 'pretrain_seconds': seconds,
            # Steps and their data loading only: validation and the planning's timings left out.
            'images_per_second': step * BATCH / max(seconds - side_seconds, 1e-9)}


# --- linear evaluation --------------------------------------------------------------------------

def encode(run, dataset, args, limit):
    """Features of a split through the frozen encoder in eval mode, and its labels."""
    run.model.encoder.eval()
    features, labels = [], []
    with torch.no_grad(), run.autocast():
        for images, y in islice(loader(dataset, args, LINEAR_BATCH, shuffle=False, drop_last=False), limit):
            features.append(run.model.encoder(run.to_layout(images)).float())
            labels.append(y)
    return torch.cat(features), torch.cat(labels)


def standardise(train, *others):
    """With the training split's statistics in float64, so that a constant feature maps to exactly 0 (LinearEval.Standardized)."""
    train64 = train.double()
    mean, std = train64.mean(0), train64.std(0).clamp_min(1e-6)
    return [((f.double() - mean) / std).float() for f in (train, *others)]


def accuracy(linear, features, labels):
    with torch.no_grad():
        return (linear(features).argmax(1) == labels).float().mean().item()


def train_linear(batches, steps_per_epoch, epochs, val, test, seed):
    """Linear(h, 10) by SGD with Nesterov momentum, the learning rate decayed by a cosine over every step without warm-up
    (linear_eval.py, LinearClassifierTrainer); returns the best validation top-1 over the epochs and the final test top-1."""
    torch.manual_seed(seed)
    linear = torch.nn.Linear(FEATURE_DIM, NUM_CLASSES)
    sgd = torch.optim.SGD(linear.parameters(), lr=LINEAR_LR, momentum=MOMENTUM, nesterov=True, weight_decay=0.0)
    total, step, val_accuracy = steps_per_epoch * epochs, 0, []
    for _ in range(epochs):
        for features, labels in batches():
            for group in sgd.param_groups:
                group['lr'] = LINEAR_LR * lr_factor(step, 0, total)
            loss = F.cross_entropy(linear(features), labels)
            sgd.zero_grad()
            loss.backward()
            sgd.step()
            step += 1
        val_accuracy.append(accuracy(linear, *val))
    return max(val_accuracy), accuracy(linear, *test)


def cached_eval(run, splits, args):
    """This project's cached protocol; also returns the raw validation and test features for the reference protocol."""
    limit = SMOKE_BATCHES if args.smoke else None
    train, val, test = (encode(run, d, args, limit) for d in (splits.train(eval_view()), splits.val(eval_view()), splits.test(eval_view())))
    log(f'encoded {len(train[0])} training, {len(val[0])} validation and {len(test[0])} test images')
    train_x, val_x, test_x = standardise(train[0], val[0], test[0])
    order = torch.Generator().manual_seed(args.seed)

    def batches():
        permutation = torch.randperm(len(train_x), generator=order)
        for i in range(0, len(permutation), LINEAR_BATCH):
            index = permutation[i:i + LINEAR_BATCH]
            yield train_x[index], train[1][index]

    epochs = SMOKE_EPOCHS if args.smoke else LINEAR_EPOCHS
    val_acc, test_acc = train_linear(batches, math.ceil(len(train_x) / LINEAR_BATCH), epochs, (val_x, val[1]), (test_x, test[1]), args.seed)
    return val_acc, test_acc, val, test


def reference_eval(run, splits, args, val, test):
    """linear_eval.py: a fresh augmented view of the training split every epoch through the frozen encoder."""
    train_loader = loader(splits.train(linear_eval_train_view()), args, LINEAR_BATCH, shuffle=True, drop_last=True, persistent=True)
    limit = SMOKE_BATCHES if args.smoke else None
    epochs = min(args.reference_eval_epochs, SMOKE_EPOCHS) if args.smoke else args.reference_eval_epochs
    run.model.encoder.eval()

    def batches():
        for images, labels in islice(train_loader, limit):
            with torch.no_grad(), run.autocast():
                features = run.model.encoder(run.to_layout(images)).float()
            yield features, labels

    steps_per_epoch = min(len(train_loader), limit or len(train_loader))
    return epochs, *train_linear(batches, steps_per_epoch, epochs, val, test, args.seed)


# --- the run ------------------------------------------------------------------------------------

def cpu_model():
    """The first processor's 'model name', 'cpu family' and 'model' from /proc/cpuinfo."""
    found = {}
    with open('/proc/cpuinfo') as f:
        for line in f:
            key, _, value = line.partition(':')
            key = key.strip()
            if key in ('model name', 'cpu family', 'model') and key not in found:
                found[key] = value.strip()
            if not line.strip() and found:
                break
    return found


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--minutes', type=float, default=15.0, help='the whole job\'s wall-clock budget, cached evaluation included (default 15)')
    parser.add_argument('--epochs', type=int, help='at most this many pre-training epochs (default: as many as the budget allows)')
    parser.add_argument('--workers', type=int, default=os.cpu_count(), help='DataLoader worker processes (default: the CPU count)')
    parser.add_argument('--threads', type=int, default=os.cpu_count(), help='torch intra-op threads (default: the CPU count)')
    parser.add_argument('--bf16', action='store_true', help='CPU bf16 autocast (default float32); cpu-small is bf16-mixed on CPUs with bf16 units')
    parser.add_argument('--channels-last', action='store_true', help='channels-last model and inputs, the C# default layout')
    parser.add_argument('--reference-eval-epochs', type=int, default=0, help="also linear_eval.py's protocol for N epochs (default 0: skip; 90 is the reference's)")
    parser.add_argument('--data', default=os.path.join(ROOT, 'data', 'fashion-mnist'), help='the Fashion-MNIST IDX files')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', help='also write the JSON result here')
    parser.add_argument('--smoke', action='store_true',
                        help=f'{SMOKE_STEPS} steps, {SMOKE_BATCHES} batches per validation and split, {SMOKE_EPOCHS} linear epochs: under a minute')
    args = parser.parse_args()
    if args.minutes <= 0 or (args.epochs is not None and args.epochs < 1) or args.reference_eval_epochs < 0:
        parser.error('--minutes must be above 0, --epochs at least 1, --reference-eval-epochs at least 0')
    return args


def main():
    args = parse_args()
    # Debian's build starts with one thread; the C# side uses every core.
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    log(f'torch {torch.__version__}, torchvision {torchvision.__version__}, {args.threads} threads, {args.workers} workers, '
        f'{"bf16 autocast" if args.bf16 else "float32"}, {"channels-last" if args.channels_last else "contiguous"}'
        f'{", smoke" if args.smoke else f", budget {args.minutes:g} min"}')
    splits = load_splits(args.data)
    log(f'data: {len(splits.train_indices)} train, {len(splits.val_indices)} val, {len(splits.test_labels)} test')

    run = Run(args)
    result = pretrain(run, splits, args)
    log(f'pre-training done: {result["steps"]} steps ({result["epochs"]:.2f} epochs), {result["images_per_second"]:.1f} images/s')

    eval_start = time.monotonic()
    val_acc, test_acc, val, test = cached_eval(run, splits, args)
    eval_seconds = time.monotonic() - eval_start
    log(f'cached linear evaluation: best val {100 * val_acc:.2f}%, test {100 * test_acc:.2f}% ({eval_seconds:.0f} s)')

    reference = None
    if args.reference_eval_epochs:
        reference_start = time.monotonic()
        epochs, ref_val, ref_test = reference_eval(run, splits, args, val, test)
        reference = {'epochs': epochs, 'val_acc': ref_val, 'test_acc': ref_test, 'seconds': time.monotonic() - reference_start}
        log(f'reference linear evaluation ({epochs} epochs): best val {100 * ref_val:.2f}%, test {100 * ref_test:.2f}% ({reference["seconds"]:.0f} s)')

    report = {
        'budget_minutes': None if args.smoke else args.minutes, 'smoke': args.smoke, **result,
        'eval_seconds': eval_seconds, 'total_seconds': time.monotonic() - JOB_START, 'val_acc': val_acc, 'test_acc': test_acc,
        'reference_eval': reference, 'torch': torch.__version__, 'torchvision': torchvision.__version__,
        'threads': torch.get_num_threads(), 'workers': args.workers, 'bf16': args.bf16, 'channels_last': args.channels_last,
        'cpu': cpu_model(),
    }
    line = json.dumps(report)
    print(line, flush=True)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(line + '\n')


if __name__ == '__main__':
    main()
