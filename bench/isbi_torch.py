#!/usr/bin/python3
"""PyTorch CPU reference run of the ISBI 2012 recipe, for the side-by-side record in bench/README.md.

    /usr/bin/python3 bench/isbi_torch.py --minutes 10 --out /tmp/torch_isbi.json

The recipe of `unet-webgpu train` in that record: U-Net width 16, depth 4, 'same' padding (milesial's layout,
bias + BatchNorm + ReLU, transposed-conv up), trained on sections 0-19 of examples/isbi2012 with random 256x256 crops,
flips and quarter turns, batch 4, Adam lr 1e-3, loss BCE + soft Dice on the membrane probability (label 0 =
membrane is the positive class), for a wall-time budget; then the held-back sections 20-24 are segmented whole
(512 x 512, eval mode) and scored: membrane Dice, cell Dice, pixel accuracy. Images are normalised by the training
set's mean and std of intensity/255. Prints one JSON line (and writes it to --out).
Needs Debian's python3-torch (1.13) as /usr/bin/python3, and numpy; PNGs are read with a small zlib decoder below.
"""
import argparse
import json
import os
import random
import struct
import sys
import time
import zlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'examples', 'isbi2012')


def read_png_gray8(path):
    """8-bit greyscale, non-interlaced PNG (the ISBI files: IHDR, IDAT, IEND only) -> uint8 [H, W]."""
    data = open(path, 'rb').read()
    assert data[:8] == b'\x89PNG\r\n\x1a\n', path
    pos, idat, w, h = 8, b'', 0, 0
    while pos < len(data):
        n, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b'IHDR':
            w, h, depth, ctype = struct.unpack('>IIBB', body[:10])
            assert depth == 8 and ctype == 0, f'{path}: only 8-bit grey'
        elif kind == b'IDAT':
            idat += body
        pos += 12 + n
    raw = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(h, w + 1)
    out = np.zeros((h, w), dtype=np.int32)
    prev = np.zeros(w, dtype=np.int32)
    for y in range(h):
        f, line = raw[y, 0], raw[y, 1:].astype(np.int32)
        cur = np.zeros(w, dtype=np.int32)
        for x in range(w):
            a = cur[x - 1] if x else 0
            b = prev[x]
            c = prev[x - 1] if x else 0
            if f == 0: v = line[x]
            elif f == 1: v = line[x] + a
            elif f == 2: v = line[x] + b
            elif f == 3: v = line[x] + (a + b) // 2
            else:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                v = line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)
            cur[x] = v & 255
        out[y] = cur
        prev = cur
    return out.astype(np.uint8)


class DoubleConv(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.double_conv = nn.Sequential(
            nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
            nn.Conv2d(cout, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))

    def forward(self, x):
        return self.double_conv(x)


class UNet(nn.Module):
    def __init__(self, width=16, depth=4):
        super().__init__()
        ch = [width * 2 ** i for i in range(depth + 1)]
        self.inc = DoubleConv(1, ch[0])
        self.downs = nn.ModuleList(nn.Sequential(nn.MaxPool2d(2), DoubleConv(ch[i], ch[i + 1])) for i in range(depth))
        self.ups = nn.ModuleList(nn.ConvTranspose2d(ch[i + 1], ch[i], 2, stride=2) for i in reversed(range(depth)))
        self.convs = nn.ModuleList(DoubleConv(2 * ch[i], ch[i]) for i in reversed(range(depth)))
        self.outc = nn.Conv2d(ch[0], 1, 1)

    def forward(self, x):
        skips = [self.inc(x)]
        for d in self.downs:
            skips.append(d(skips[-1]))
        y = skips.pop()
        for up, conv in zip(self.ups, self.convs):
            y = conv(torch.cat([skips.pop(), up(y)], 1))
        return self.outc(y)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--minutes', type=float, default=10)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--out', default='')
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    random.seed(a.seed)
    torch.set_num_threads(a.threads)
    load = lambda k: (read_png_gray8(os.path.join(ROOT, 'images', f'{k}.png')), read_png_gray8(os.path.join(ROOT, 'labels', f'{k}.png')))
    train = [load(k) for k in range(20)]
    val = [load(k) for k in range(20, 25)]
    mean = float(np.mean([im.mean() for im, _ in train]) / 255)
    std = float(np.sqrt(np.mean([((im / 255.0 - mean) ** 2).mean() for im, _ in train])))
    norm = lambda im: (im.astype(np.float32) / 255 - mean) / std
    net = UNet()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    t0 = time.time()
    steps, losses = 0, []
    net.train()
    while time.time() - t0 < a.minutes * 60:
        xs, ys = [], []
        for _ in range(4):
            im, lab = train[random.randrange(20)]
            y0, x0 = random.randrange(512 - 256 + 1), random.randrange(512 - 256 + 1)
            xi = norm(im[y0:y0 + 256, x0:x0 + 256])
            yi = (lab[y0:y0 + 256, x0:x0 + 256] == 0).astype(np.float32)  # membrane = 1
            if random.random() < 0.5: xi, yi = xi[:, ::-1], yi[:, ::-1]
            if random.random() < 0.5: xi, yi = xi[::-1], yi[::-1]
            k = random.randrange(4)
            xs.append(np.rot90(xi, k).copy())
            ys.append(np.rot90(yi, k).copy())
        x = torch.from_numpy(np.stack(xs))[:, None]
        y = torch.from_numpy(np.stack(ys))[:, None]
        logits = net(x)
        p = torch.sigmoid(logits)
        dice = 1 - (2 * (p * y).sum() + 1) / (p.sum() + y.sum() + 1)
        loss = F.binary_cross_entropy_with_logits(logits, y) + dice
        opt.zero_grad()
        loss.backward()
        opt.step()
        steps += 1
        losses.append(float(loss))
        if steps % 20 == 0:
            print(f'[torch isbi] step {steps} loss {np.mean(losses[-20:]):.4f} ({time.time() - t0:.0f} s)', file=sys.stderr)
    train_s = time.time() - t0
    net.eval()
    tp = [0, 0]; fp = [0, 0]; fn = [0, 0]; correct = 0; total = 0
    with torch.no_grad():
        for im, lab in val:
            pm = torch.sigmoid(net(torch.from_numpy(norm(im))[None, None]))[0, 0].numpy() > 0.5  # membrane
            truth = lab == 0
            for c, (pc, tc) in enumerate([(pm, truth), (~pm, ~truth)]):
                tp[c] += int((pc & tc).sum()); fp[c] += int((pc & ~tc).sum()); fn[c] += int((~pc & tc).sum())
            correct += int((pm == truth).sum()); total += truth.size
    d = [2 * tp[c] / (2 * tp[c] + fp[c] + fn[c]) for c in range(2)]
    line = dict(peer='pytorch-cpu', torch=torch.__version__, threads=a.threads, minutes=a.minutes, train_s=round(train_s, 1), steps=steps,
                final_loss=round(float(np.mean(losses[-20:])), 4), membrane_dice=round(d[0], 4), cell_dice=round(d[1], 4),
                pixel_accuracy=round(correct / total, 4), val_sections=[20, 21, 22, 23, 24])
    print(json.dumps(line))
    if a.out:
        with open(a.out, 'w') as f:
            f.write(json.dumps(line) + '\n')


if __name__ == '__main__':
    main()
