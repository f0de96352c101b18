#!/usr/bin/python3
"""PyTorch's half of the round trip with unet-webgpu (scripts/torch_roundtrip.ts is ours; the README section
"Moving to PyTorch or ONNX Runtime" has the whole sequence).

  /usr/bin/python3 scripts/torch_roundtrip.py --weights CKPT --reference REF --out BACK [--plain] [--prefix module.]

1. Reads our checkpoint CKPT (safetensors: 'model.<key>' tensors, the 'unet-webgpu' JSON metadata with the UNet
   options) and loads the model tensors, strictly, into the PyTorch U-Net of scripts/fixtures/unet_ref.py (milesial's
   Pytorch-UNet module structure and parameter names: inc.double_conv.0.weight, down1.maxpool_conv.1..., up1.up...,
   outc.conv...; our written-out equivalent, not milesial's code).
2. Runs it in eval mode on REF's input x (written by `torch_roundtrip.ts reference`) and prints max |torch - ours|.
3. Writes the PyTorch model's state_dict() back to BACK: a unet-webgpu checkpoint (the same metadata less the
   training state, so `unet-webgpu predict` / `export` take it), or with --plain a plain PyTorch state dict in
   safetensors (what a PyTorch training script saves); --prefix adds a wrapper prefix to every key ('module.' as
   DistributedDataParallel's state_dict() has, '_orig_mod.' as torch.compile's), which our loader strips with
   stripPrefixes / --strip-prefixes.
Needs torch only (Debian's python3-torch 1.13 here): safetensors is read and written by hand (make_unet_dumps.py).
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures'))
from make_unet_dumps import read_safetensors, write_safetensors  # noqa: E402
from unet_ref import UNet  # noqa: E402

KEY = 'unet-webgpu'


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--weights', required=True, help='our checkpoint (.safetensors)')
    ap.add_argument('--reference', required=True, help='x and our out, from torch_roundtrip.ts reference')
    ap.add_argument('--out', required=True, help='where to write the state dict back')
    ap.add_argument('--plain', action='store_true', help='write a plain PyTorch state dict, not a unet-webgpu checkpoint')
    ap.add_argument('--prefix', default='', help="prefix every key, e.g. 'module.' (DDP) or '_orig_mod.' (torch.compile)")
    a = ap.parse_args()

    tensors, meta = read_safetensors(a.weights)
    ck = json.loads(meta[KEY])
    cfg = ck['model']
    if cfg.get('merge', 'pad') != 'pad':
        sys.exit(f"merge '{cfg['merge']}' has no milesial equivalent (milesial pads the upsampled map)")
    model = UNet(cfg['inChannels'], cfg['classes'], width=cfg['width'], depth=cfg['depth'], bilinear=cfg['bilinear'],
                 padding=cfg['padding'], bias=cfg['bias'])
    state = {k[len('model.'):]: t for k, t in tensors.items() if k.startswith('model.')}
    model.load_state_dict(state, strict=True)
    model.eval()
    print(f'torch {torch.__version__}: loaded {len(state)} tensors of {a.weights} into the PyTorch U-Net {json.dumps(cfg)}')

    ref, _ = read_safetensors(a.reference)
    with torch.no_grad():
        out = model(ref['x'])
    d = (out - ref['out']).abs().max().item()
    print(f"forward on x {list(ref['x'].shape)}: max |torch - unet-webgpu| = {d:.2e} over {out.numel()} logits "
          f"(max |logit| {ref['out'].abs().max().item():.3f})")

    sd = {a.prefix + k: v for k, v in model.state_dict().items()}
    if a.plain:
        write_safetensors(a.out, sd, {'format': 'pt'})
    else:
        ck.pop('train', None)
        write_safetensors(a.out, {f'model.{k}': v for k, v in sd.items()}, {KEY: json.dumps(ck), 'format': 'pt'})
    back, _ = read_safetensors(a.out)
    assert all(torch.equal(back[k if a.plain else f'model.{k}'], v) for k, v in sd.items())
    print(f"wrote {a.out}: {'plain state dict' if a.plain else 'unet-webgpu checkpoint'}, {len(sd)} tensors"
          f"{f', keys prefixed {a.prefix!r}' if a.prefix else ''}")
    if d > 1e-4:
        sys.exit(1)


if __name__ == '__main__':
    main()
