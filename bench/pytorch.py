#!/usr/bin/env python3
"""The PyTorch target of `npm run bench` (started by bench/torch.ts; never a dependency of gradlab).

Every workload of bench/workloads.ts, under the same ids and work counts, on PyTorch's CPU kernels
(oneDNN for conv, the BLAS for matmul and Linear) at a chosen number of threads — or, with
--device cuda, on its first GPU (bench/device/; each timed call waits for the GPU):

  python3 bench/pytorch.py time --threads 1 --batch 128 [--only step] [--quick] [--device cuda] --json FILE
  python3 bench/pytorch.py list --batch 128          # every workload's id and work, as JSON
  python3 bench/pytorch.py check --model smallnet-frelu --data IN.safetensors --json FILE

The networks are gradlab's (src/nn/models), layer for layer and under the same state-dict keys, so
`load_state_dict(strict=True)` takes a gradlab state dict as it is:
  SmallNet   3 × [Conv3×3 (no bias) → BN → ReLU or FReLU → MaxPool 2 → Dropout 0.2]
             → Flatten → Linear 2048→512 → BN1d → ReLU or FReLU → Dropout 0.5 → Linear 512→100
  ResNet-20  block (a): Conv → BN → ReLU → Conv → BN → + shortcut → ReLU; shortcut type A (every
             other pixel, zero channels appended; no parameters); AvgPool 8 → Linear 64→10
  FReLU      relu(x) + b, one learnable scalar b per layer (init −1), as in the paper.
A training step is what gradlab's is (bench/workloads.ts trainingStep): forward, cross-entropy,
the loss read back (.item()), backward, SGD step (lr, momentum from --lr/--momentum: bench/torch.ts
passes gradlab's STEP_SGD), gradients cleared.

`check` runs the networks on given weights and images (a safetensors file, read here without the
safetensors package) and writes the loss, the logits and every gradient, and the loss after one SGD
step: test/bench-torch.test.ts compares them with gradlab's, which shows the benchmark times the
same computation on both sides.

Timing follows bench/harness.ts: one untimed call (then two more unless it took over 10 s), then calls until
at least 5 samples and 2 s (2 samples when --quick or when the first call took over 1 s); wall time
is the mean per call, CPU time is this process's (every thread) per call.
"""
import argparse
import json
import math
import os
import statistics
import struct
import sys
import time

# Threads must be fixed before torch starts its pools: OpenMP and BLAS read these at load time.
def _threads_from_argv():
    for i, a in enumerate(sys.argv):
        if a == '--threads' and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
        if a.startswith('--threads='):
            return a.split('=', 1)[1]
    return None

_T = _threads_from_argv()
if _T is not None and _T.isdigit() and int(_T) > 0:
    for var in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'):
        os.environ[var] = _T

import torch
import torch.nn as nn
import torch.nn.functional as F


# Where the timed workloads run: 'cpu', or 'cuda' with --device cuda (bench/device/ on a GPU machine).
DEVICE = 'cpu'


# ── the networks ──

class FReLU(nn.Module):
    """relu(x) + b with one learnable scalar b (the paper's layer-wise FReLU; gradlab's FReLU layer)."""

    def __init__(self, init=-1.0):
        super().__init__()
        self.b = nn.Parameter(torch.tensor(float(init)))

    def forward(self, x):
        return F.relu(x) + self.b


def activation(kind):
    return FReLU() if kind == 'frelu' else nn.ReLU()


class SmallNet(nn.Module):
    """gradlab's models.smallNet({ batchNorm: true }): the same modules at the same indices."""

    def __init__(self, act='relu', classes=100):
        super().__init__()
        layers = []
        cin = 3
        for width in (32, 64, 128):
            layers += [nn.Conv2d(cin, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), activation(act), nn.MaxPool2d(2), nn.Dropout(0.2)]
            cin = width
        self.features = nn.Sequential(*layers)
        self.flatten = nn.Flatten(1)
        self.classifier = nn.Sequential(nn.Linear(128 * 4 * 4, 512), nn.BatchNorm1d(512), activation(act), nn.Dropout(0.5), nn.Linear(512, classes))

    def forward(self, x):
        return self.classifier(self.flatten(self.features(x)))


class ShortcutA(nn.Module):
    """He et al.'s option A: every `stride`-th pixel, then zero channels appended (no parameters)."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.extra = cout - cin
        self.stride = stride

    def forward(self, x):
        s = x[:, :, ::self.stride, ::self.stride]
        return F.pad(s, (0, 0, 0, 0, 0, self.extra))


class BasicBlock(nn.Module):
    """Block (a): conv1 → bn1 → act1 → conv2 → bn2 → + shortcut → act2 (gradlab's BasicBlock)."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.act1 = nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = ShortcutA(cin, cout, stride) if stride != 1 or cin != cout else None
        self.act2 = nn.ReLU()

    def forward(self, x):
        h = self.act1(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        return self.act2(h + (x if self.shortcut is None else self.shortcut(x)))


class ResNet20(nn.Module):
    """gradlab's models.resnet({ depth: 20, block: 'a', activation: 'relu' })."""

    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU())

        def stage(cin, cout, stride):
            return nn.Sequential(*[BasicBlock(cin if i == 0 else cout, cout, stride if i == 0 else 1) for i in range(3)])

        self.stage1 = stage(16, 16, 1)
        self.stage2 = stage(16, 32, 2)
        self.stage3 = stage(32, 64, 2)
        self.head = nn.Sequential(nn.AvgPool2d(8), nn.Flatten(1), nn.Linear(64, classes))

    def forward(self, x):
        return self.head(self.stage3(self.stage2(self.stage1(self.stem(x)))))


MODELS = {
    'smallnet': (lambda: SmallNet('relu'), 100),
    'smallnet-frelu': (lambda: SmallNet('frelu'), 100),
    'resnet20': (lambda: ResNet20(), 10),
}


def step_fn(model, optimizer, x, labels):
    """One training step as gradlab's trainingStep: returns the loss before the update."""
    def step():
        loss = F.cross_entropy(model(x), labels)
        value = loss.item()
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return value
    return step


# ── the workloads (ids and work as bench/workloads.ts) ──

def op_pair(group, name, what, unit, fwd_work, bwd_work, make_inputs, apply):
    """A forward and a backward workload of one op, as workloads.ts's opPair."""
    def prep_fwd():
        inputs = make_inputs()
        def run():
            with torch.no_grad():
                apply(inputs)
        return run

    def prep_bwd():
        inputs = make_inputs()
        with_grad = [t for t in inputs.values() if t.requires_grad]
        y = apply(inputs)
        dy = torch.randn(y.shape, device=DEVICE)
        def run():
            for t in with_grad:
                t.grad = None
            y.backward(dy, retain_graph=True)
        return run

    return [
        dict(id=f'{group}.fwd {name}', group=group, what=what, unit=unit, work=fwd_work, prepare=prep_fwd),
        dict(id=f'{group}.bwd {name}', group=group, what=what, unit=unit, work=bwd_work, prepare=prep_bwd),
    ]


def gemm(n):
    flop = 2 * n ** 3
    pair = op_pair('gemm', str(n), f'matmul [{n},{n}]·[{n},{n}]', 'FLOP', flop, 2 * flop,
                   lambda: dict(a=torch.randn(n, n, device=DEVICE, requires_grad=True), b=torch.randn(n, n, device=DEVICE, requires_grad=True)),
                   lambda i: torch.mm(i['a'], i['b']))
    return pair if n == 512 else pair[:1]


def conv(name, x, out, stride, dx):
    N, C, H, W = x
    OH = (H + 2 - 3) // stride + 1
    OW = (W + 2 - 3) // stride + 1
    flop = 2 * N * out * OH * OW * C * 9
    return op_pair('conv', name, f'x[{N},{C},{H},{W}] w[{out},{C},3,3] stride {stride} pad 1', 'FLOP', flop, 2 * flop if dx else flop,
                   lambda: dict(x=torch.randn(*x, device=DEVICE, requires_grad=dx), w=torch.randn(out, C, 3, 3, device=DEVICE, requires_grad=True)),
                   lambda i: F.conv2d(i['x'], i['w'], stride=stride, padding=1))


def norm(name, shape):
    C = shape[1]
    size = math.prod(shape)
    return op_pair('norm', name, f'batchNorm (training) x[{",".join(map(str, shape))}]', 'elements', size, size,
                   lambda: dict(x=torch.randn(*shape, device=DEVICE, requires_grad=True), gamma=torch.ones(C, device=DEVICE, requires_grad=True),
                                beta=torch.zeros(C, device=DEVICE, requires_grad=True), running_mean=torch.zeros(C, device=DEVICE), running_var=torch.ones(C, device=DEVICE)),
                   lambda i: F.batch_norm(i['x'], i['running_mean'], i['running_var'], i['gamma'], i['beta'], training=True, eps=1e-5))


def pool(name, kind, shape, size):
    n = math.prod(shape)
    op = F.max_pool2d if kind == 'max' else F.avg_pool2d
    return op_pair('pool', name, f'{kind}Pool2d {size}×{size} stride {size} x[{",".join(map(str, shape))}]', 'elements', n, n,
                   lambda: dict(x=torch.randn(*shape, device=DEVICE, requires_grad=True)),
                   lambda i: op(i['x'], size, size))


def frelu(name, shape):
    n = math.prod(shape)
    return op_pair('frelu', name, f'frelu, scalar b, x[{",".join(map(str, shape))}]', 'elements', n, n,
                   lambda: dict(x=torch.randn(*shape, device=DEVICE, requires_grad=True), b=torch.tensor(-1.0, device=DEVICE, requires_grad=True)),
                   lambda i: F.relu(i['x']) + i['b'])


def train_step(name, batch, sgd):
    make, classes = MODELS[name]

    def prepare():
        model = make().to(DEVICE)
        model.train()
        optimizer = torch.optim.SGD(model.parameters(), lr=sgd['lr'], momentum=sgd['momentum'])
        x = torch.randn(batch, 3, 32, 32, device=DEVICE)
        labels = torch.tensor([(i * 37) % classes for i in range(batch)], device=DEVICE)
        return step_fn(model, optimizer, x, labels)

    what = 'ResNet-20 (block a, shortcut A, ReLU, 10 classes)' if name == 'resnet20' else f'SmallNet (BN, {"FReLU" if name == "smallnet-frelu" else "ReLU"}, 100 classes)'
    return dict(id=f'step {name}', group='step', what=f'{what} batch {batch}', unit='images', work=batch, prepare=prepare)


def workloads(B, sgd):
    return [
        *gemm(256), *gemm(512), *gemm(1024),
        *conv('smallnet.conv1', (B, 3, 32, 32), 32, 1, False),
        *conv('smallnet.conv2', (B, 32, 16, 16), 64, 1, True),
        *conv('smallnet.conv3', (B, 64, 8, 8), 128, 1, True),
        *conv('resnet.stage1', (B, 16, 32, 32), 16, 1, True),
        *conv('resnet.stage2.down', (B, 16, 32, 32), 32, 2, True),
        *conv('resnet.stage2', (B, 32, 16, 16), 32, 1, True),
        *conv('resnet.stage3', (B, 64, 8, 8), 64, 1, True),
        *conv('peers', (64, 32, 16, 16), 64, 1, True),
        *norm('smallnet.bn1', (B, 32, 32, 32)),
        *norm('smallnet.bn1d', (B, 512)),
        *pool('smallnet.pool1', 'max', (B, 32, 32, 32), 2),
        *pool('resnet.head', 'avg', (B, 64, 8, 8), 8),
        *frelu('smallnet.act1', (B, 32, 32, 32)),
        train_step('smallnet', B, sgd),
        train_step('smallnet-frelu', B, sgd),
        train_step('resnet20', B, sgd),
    ]


GROUPS = ('gemm', 'conv', 'norm', 'pool', 'frelu', 'step')


def selected(w, only):
    """bench/suite.ts's `selected`: a group name picks its group, anything else a part of the id."""
    return not only or any((w['group'] == o) if o in GROUPS else (o in w['id']) for o in only)


# ── timing (bench/harness.ts's scheme) ──

def time_calls(work, quick):
    """Times `work` as bench/harness.ts does (see the file comment). On a GPU each call waits for
    the device to finish (torch.cuda.synchronize), so the time includes the work, not its queueing."""
    def fn():
        work()
        if DEVICE == 'cuda':
            torch.cuda.synchronize()
    t0 = time.perf_counter()
    fn()
    first_ms = (time.perf_counter() - t0) * 1e3
    warmup = 0 if first_ms > 10_000 else 2
    min_samples, max_seconds = (2, 0.0) if quick or first_ms > 1000 else (5, 2.0)
    for _ in range(warmup):
        fn()
    samples = []
    cpu = 0.0
    start = time.perf_counter()
    while len(samples) < min_samples or time.perf_counter() - start < max_seconds:
        c0 = time.process_time()
        w0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - w0)
        cpu += time.process_time() - c0
    mean = statistics.fmean(samples)
    # Benchmark.js's rme: the 95 % margin of the mean, in percent (t ≈ 1.96 for many samples; rough for few).
    rme = 0.0 if len(samples) < 2 else 1.96 * statistics.stdev(samples) / math.sqrt(len(samples)) / mean * 100
    return dict(firstMs=first_ms, wallMs=mean * 1e3, wallMedianMs=statistics.median(samples) * 1e3, rmePercent=rme,
                cpuMs=cpu / len(samples) * 1e3, samples=len(samples), calls=len(samples))


def rate(unit, work, ms):
    per_second = work / (ms / 1000)
    return per_second / 1e9 if unit == 'FLOP' else per_second / 1e6 if unit == 'elements' else per_second


def loaded_blas():
    """The BLAS and oneDNN libraries this process has loaded (torch's matmul runs on the BLAS; Debian's
    python3-torch with the plain libblas3 gets the netlib reference BLAS, ~5 GFLOP/s: say so)."""
    libs = set()
    with open('/proc/self/maps') as f:
        for line in f:
            path = line.split()[-1]
            if 'blas' in path or 'dnnl' in path or 'mkl' in path:
                libs.add(path)
    return sorted(libs)


def cmd_time(args):
    global DEVICE
    if args.device == 'cuda' and not torch.cuda.is_available():
        raise SystemExit('pytorch.py: --device cuda, but torch.cuda.is_available() is False here')
    DEVICE = args.device
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    sgd = dict(lr=args.lr, momentum=args.momentum)
    only = [o.strip() for o in args.only.split(',') if o.strip()]
    load = lambda: round(os.getloadavg()[0], 2)
    torch.mm(torch.ones(2, 2), torch.ones(2, 2))  # loads the BLAS, so that loaded_blas sees it
    info = dict(torch=torch.__version__, threads=torch.get_num_threads(), python=sys.version.split()[0],
                mkldnn=torch.backends.mkldnn.is_available(), blas=loaded_blas(), device=DEVICE,
                gpu=torch.cuda.get_device_name(0) if DEVICE == 'cuda' else None)
    print(f'# torch {info["torch"]} on {info["gpu"] or "the CPU"}, {info["threads"]} thread(s) (set_num_threads({args.threads})), oneDNN {"on" if info["mkldnn"] else "off"}; BLAS {", ".join(info["blas"]) or "none found"}; load average {load()} at the start; batch {args.batch}{", quick" if args.quick else ""}', flush=True)
    started = time.perf_counter()
    load_start = load()
    results = []
    for w in workloads(args.batch, sgd):
        if not selected(w, only):
            continue
        run = w['prepare']()
        timing = time_calls(run, args.quick)
        r = dict(id=w['id'], group=w['group'], what=w['what'], unit=w['unit'], work=w['work'], timing=timing,
                 rate=dict(wall=rate(w['unit'], w['work'], timing['wallMs']), cpu=rate(w['unit'], w['work'], timing['cpuMs'])))
        results.append(r)
        label = {'FLOP': 'GFLOP/s', 'elements': 'Melem/s', 'images': 'img/s'}[w['unit']]
        print(f'{w["id"]:<28} {r["rate"]["wall"]:7.1f} {label} wall, {r["rate"]["cpu"]:7.1f} cpu | {timing["wallMs"]:.1f} ms/call, first {timing["firstMs"]:.0f} ms, {timing["calls"]} calls | {w["what"]}', flush=True)
    out = dict(threads=info['threads'], info=info, loadAverage=load_start, loadAverageAfter=load(), seconds=time.perf_counter() - started,
               batch=args.batch, quick=args.quick, results=results)
    write_json(args.json, out)


def write_json(path, value):
    """Writes `value` as JSON to `path` atomically (a temporary file beside it, then a rename)."""
    tmp = f'{path}.{os.getpid()}.tmp'
    with open(tmp, 'w') as f:
        json.dump(value, f)
    os.replace(tmp, path)


def cmd_list(args):
    sgd = dict(lr=0.01, momentum=0.9)
    print(json.dumps([dict(id=w['id'], group=w['group'], unit=w['unit'], work=w['work']) for w in workloads(args.batch, sgd)]))


# ── check: the same numbers as gradlab on the same weights ──

def read_safetensors(path):
    """A safetensors file as {name: tensor} (F32, F64 and I64; the format: an 8-byte little-endian
    header length, a JSON header of dtype/shape/data_offsets, then the raw little-endian data)."""
    with open(path, 'rb') as f:
        data = f.read()
    (n,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + n])
    body = memoryview(data)[8 + n:]
    dtypes = {'F32': torch.float32, 'F64': torch.float64, 'I64': torch.int64}
    out = {}
    for name, spec in header.items():
        if name == '__metadata__':
            continue
        if spec['dtype'] not in dtypes:
            raise ValueError(f'{path}: tensor {name} has dtype {spec["dtype"]}; this reader takes F32, F64 and I64')
        begin, end = spec['data_offsets']
        t = torch.frombuffer(bytearray(body[begin:end]), dtype=dtypes[spec['dtype']]) if end > begin else torch.zeros(0, dtype=dtypes[spec['dtype']])
        out[name] = t.reshape(spec['shape'])
    return out


def cmd_check(args):
    """Loads gradlab's weights (state.* keys), images and labels from --data; runs one forward and
    backward with dropout off and batch norm in training mode, one SGD step, and one more forward."""
    torch.set_num_threads(1)
    tensors = read_safetensors(args.data)
    make, _ = MODELS[args.model]
    model = make()
    state = {k[len('state.'):]: v for k, v in tensors.items() if k.startswith('state.')}
    model.load_state_dict(state, strict=True)
    model.train()
    for m in model.modules():
        if isinstance(m, nn.Dropout):
            m.eval()
    x = tensors['images'].float()
    labels = tensors['labels'].long()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    logits = model(x)
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    grads = {name: p.grad.reshape(-1).tolist() for name, p in model.named_parameters()}
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    with torch.no_grad():
        loss_after = F.cross_entropy(model(x), labels).item()
    out = dict(parameters=sum(p.numel() for p in model.parameters()), loss=loss.item(), lossAfterStep=loss_after,
               logits=logits.detach().reshape(-1).tolist(), logitsShape=list(logits.shape), grads=grads,
               runningMean={k: v.reshape(-1).tolist() for k, v in model.state_dict().items() if k.endswith('running_mean')})
    write_json(args.json, out)


def main():
    ap = argparse.ArgumentParser(description='PyTorch side of npm run bench (see the file comment)')
    sub = ap.add_subparsers(dest='command', required=True)
    t = sub.add_parser('time')
    t.add_argument('--threads', type=int, required=True)
    t.add_argument('--device', choices=('cpu', 'cuda'), default='cpu')
    t.add_argument('--batch', type=int, default=128)
    t.add_argument('--only', default='')
    t.add_argument('--quick', action='store_true')
    t.add_argument('--lr', type=float, required=True)
    t.add_argument('--momentum', type=float, required=True)
    t.add_argument('--json', required=True)
    lst = sub.add_parser('list')
    lst.add_argument('--batch', type=int, default=128)
    c = sub.add_parser('check')
    c.add_argument('--model', choices=sorted(MODELS), required=True)
    c.add_argument('--data', required=True)
    c.add_argument('--lr', type=float, required=True)
    c.add_argument('--momentum', type=float, required=True)
    c.add_argument('--json', required=True)
    args = ap.parse_args()
    if args.command == 'time' and args.threads < 1:
        ap.error(f'--threads must be ≥ 1; got {args.threads}')
    {'time': cmd_time, 'list': cmd_list, 'check': cmd_check}[args.command](args)


if __name__ == '__main__':
    main()
