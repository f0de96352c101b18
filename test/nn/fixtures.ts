// PyTorch fixtures of the nn layer (made by scripts/fixtures/make_nn_fixtures.py) and the nets they describe.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nn, tensor, type Device, type Tensor } from '../../src/index.js';

export interface JsTensor {
  shape: number[];
  data: number[];
  dtype?: 'i32' | 'u8';
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function fixture(name: string): any {
  return JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/torch', `nn_${name}.json`), 'utf8'));
}

/** A fixture tensor on `device` (i32 for integer tensors). */
export function fromJs(t: JsTensor, device: Device, requiresGrad = false): Tensor {
  return tensor(t.dtype === 'i32' ? Int32Array.from(t.data) : Float32Array.from(t.data), t.shape, { device, requiresGrad });
}

/** A state dict of fixture tensors on `device`. */
export function stateFromJs(sd: Record<string, JsTensor>, device: Device): nn.StateDict {
  return Object.fromEntries(Object.entries(sd).map(([k, v]) => [k, fromJs(v, device)]));
}

/** Sequential(Conv2d(1,4,3), BatchNorm2d(4), ReLU(), MaxPool2d(2), ConvTranspose2d(4,2,2,stride 2)), as the fixture script. */
export function smallNet(): nn.Sequential {
  return new nn.Sequential(new nn.Conv2d(1, 4, 3), new nn.BatchNorm2d(4), new nn.ReLU(), new nn.MaxPool2d(2), new nn.ConvTranspose2d(4, 2, 2, { stride: 2 }));
}

export class DoubleConv extends nn.Module {
  readonly double_conv: nn.Sequential;
  constructor(cin: number, cout: number) {
    super();
    this.double_conv = new nn.Sequential(
      new nn.Conv2d(cin, cout, 3, { padding: 1, bias: false }), new nn.BatchNorm2d(cout), new nn.ReLU(),
      new nn.Conv2d(cout, cout, 3, { padding: 1, bias: false }), new nn.BatchNorm2d(cout), new nn.ReLU(),
    );
  }
  forward(x: Tensor): Tensor {
    return this.double_conv.forward(x);
  }
}

/** The fixture script's `Nested`: every kind of field. */
export class Nested extends nn.Module {
  readonly inc = new DoubleConv(3, 4);
  readonly down = new nn.Sequential(new nn.MaxPool2d(2), new DoubleConv(4, 8));
  readonly up = new nn.ConvTranspose2d(8, 4, 2, { stride: 2 });
  readonly norm = new nn.BatchNorm2d(4, { affine: false });
  readonly stats_free = new nn.BatchNorm2d(4, { trackRunningStats: false });
  readonly head = new nn.Sequential(new nn.Dropout2d(0.1), new nn.Upsample({ scaleFactor: 2 }), new nn.Conv2d(4, 2, 1), new nn.Identity(), new nn.Sigmoid());
  readonly width = 4; // not state
  forward(x: Tensor): Tensor {
    return this.head.forward(this.stats_free.forward(this.norm.forward(this.up.forward(this.down.forward(this.inc.forward(x))))));
  }
}

export const shapesOf = (entries: [string, Tensor][]) => entries.map(([k, t]) => [k, [...t.shape]]);
