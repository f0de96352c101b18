// Hyper-parameters that PyTorch rejects (and ones that make no sense: an infinite lr, a NaN dampening or
// gamma) are rejected when the optimizer, scheduler or clipGradNorm_ call is made, not at the first step,
// with an ArgumentError naming the class and the value; unknown option keys likewise. CPU device only.
import { describe, expect, test } from 'vitest';
import { ArgumentError, cpuDevice, nn, tensor, withDevice, zeros } from '../../src/index.js';
import { badCalls, type BadCall } from '../helpers/bad_calls.js';

const cpu = cpuDevice();
const param = () => new nn.Parameter(zeros([2], { device: cpu }));
const opt = () => new nn.SGD([param()], { lr: 0.1 });
const js = <T>(v: unknown) => v as T;

const CASES: BadCall[] = [
  // Optimizers.
  ['SGD lr Infinity', () => new nn.SGD([param()], { lr: Infinity }), 'SGD', /invalid learning rate: Infinity \(must be a finite number >= 0\)/],
  ['SGD lr -0.1', () => new nn.SGD([param()], { lr: -0.1 }), 'SGD', /invalid learning rate: -0.1/],
  ['SGD lr NaN', () => new nn.SGD([param()], { lr: NaN }), 'SGD', /invalid learning rate: NaN/],
  ['SGD no lr', () => new nn.SGD([param()], js({})), 'SGD', /invalid learning rate: undefined/],
  ['SGD momentum NaN', () => new nn.SGD([param()], { lr: 0.1, momentum: NaN }), 'SGD', /invalid momentum value: NaN/],
  ['SGD momentum Infinity', () => new nn.SGD([param()], { lr: 0.1, momentum: Infinity }), 'SGD', /invalid momentum value: Infinity/],
  ['SGD dampening NaN', () => new nn.SGD([param()], { lr: 0.1, momentum: 0.9, dampening: NaN }), 'SGD', /invalid dampening value: NaN \(must be a finite number\)/],
  ['SGD weightDecay -1', () => new nn.SGD([param()], { lr: 0.1, weightDecay: -1 }), 'SGD', /invalid weight_decay value: -1/],
  ['SGD weightDecay NaN', () => new nn.SGD([param()], { lr: 0.1, weightDecay: NaN }), 'SGD', /invalid weight_decay value: NaN/],
  ["SGD nesterov 'yes'", () => new nn.SGD([param()], js({ lr: 0.1, momentum: 0.9, nesterov: 'yes' })), 'SGD', /nesterov must be true or false/],
  ['SGD weight_decay', () => new nn.SGD([param()], js({ lr: 0.1, weight_decay: 1e-4 })), 'SGD', /unknown option 'weight_decay' \(did you mean 'weightDecay'\?\); accepted: lr, momentum, dampening, weightDecay, nesterov, maximize/],
  ['SGD group learning_rate', () => new nn.SGD(js([{ params: [param()], learning_rate: 0.1 }]), { lr: 0.1 }), 'SGD', /unknown parameter-group key 'learning_rate'; accepted: params, lr, momentum, dampening, weightDecay, nesterov, maximize, initialLr/],
  ['Adam betas [1, 0.999]', () => new nn.Adam([param()], { betas: [1, 0.999] }), 'Adam', /invalid beta parameter at index 0: 1 \(must be in \[0, 1\)\)/],
  ['Adam betas [0.9, NaN]', () => new nn.Adam([param()], { betas: [0.9, NaN] }), 'Adam', /invalid beta parameter at index 1: NaN/],
  ['Adam betas of one', () => new nn.Adam([param()], js({ betas: [0.9] })), 'Adam', /betas must be a pair of numbers, got \[0.9\]/],
  ['Adam eps 0', () => new nn.Adam([param()], { eps: 0 }), 'Adam', /invalid epsilon value: 0 \(must be a finite number > 0\)/],
  ['Adam eps NaN', () => new nn.Adam([param()], { eps: NaN }), 'Adam', /invalid epsilon value: NaN/],
  ['Adam lr Infinity', () => new nn.Adam([param()], { lr: Infinity }), 'Adam', /invalid learning rate: Infinity/],
  ['AdamW weightDecay NaN', () => new nn.AdamW([param()], { weightDecay: NaN }), 'AdamW', /invalid weight_decay value: NaN/],
  ['AdamW betas [0.9, -0.1]', () => new nn.AdamW([param()], { betas: [0.9, -0.1] }), 'AdamW', /invalid beta parameter at index 1: -0.1/],
  ["Adam amsgrad 'yes'", () => new nn.Adam([param()], js({ amsgrad: 'yes' })), 'Adam', /amsgrad must be true or false/],
  ['Adam weight_decay', () => new nn.Adam([param()], js({ weight_decay: 0 })), 'Adam', /unknown option 'weight_decay' \(did you mean 'weightDecay'\?\)/],
  // Schedulers.
  ['StepLR gamma NaN', () => new nn.StepLR(opt(), { stepSize: 2, gamma: NaN }), 'StepLR', /gamma must be a finite number > 0, got NaN/],
  ['StepLR gamma Infinity', () => new nn.StepLR(opt(), { stepSize: 2, gamma: Infinity }), 'StepLR', /gamma must be a finite number > 0, got Infinity/],
  ['StepLR stepSize 0', () => new nn.StepLR(opt(), { stepSize: 0 }), 'StepLR', /stepSize must be a positive integer, got 0/],
  ['StepLR step_size', () => new nn.StepLR(opt(), js({ step_size: 2 })), 'StepLR', /unknown option 'step_size' \(did you mean 'stepSize'\?\); accepted: stepSize, gamma, lastEpoch/],
  ['StepLR lastEpoch 1.5', () => new nn.StepLR(opt(), { stepSize: 2, lastEpoch: 1.5 }), 'StepLR', /lastEpoch must be an integer >= -1, got 1.5/],
  ['CosineAnnealingLR tMax 0', () => new nn.CosineAnnealingLR(opt(), { tMax: 0 }), 'CosineAnnealingLR', /tMax must be a finite number > 0, got 0/],
  ['CosineAnnealingLR tMax Infinity', () => new nn.CosineAnnealingLR(opt(), { tMax: Infinity }), 'CosineAnnealingLR', /tMax must be a finite number > 0, got Infinity/],
  ['CosineAnnealingLR etaMin NaN', () => new nn.CosineAnnealingLR(opt(), { tMax: 5, etaMin: NaN }), 'CosineAnnealingLR', /etaMin must be a finite number >= 0, got NaN/],
  ['CosineAnnealingLR T_max', () => new nn.CosineAnnealingLR(opt(), js({ T_max: 5 })), 'CosineAnnealingLR', /unknown option 'T_max' \(did you mean 'tMax'\?\)/],
  ['ReduceLROnPlateau factor NaN', () => new nn.ReduceLROnPlateau(opt(), { factor: NaN }), 'ReduceLROnPlateau', /factor should be < 1.0/],
  ['ReduceLROnPlateau factor -0.5', () => new nn.ReduceLROnPlateau(opt(), { factor: -0.5 }), 'ReduceLROnPlateau', /factor must be a finite number >= 0 and < 1, got -0.5/],
  ['ReduceLROnPlateau patience -1', () => new nn.ReduceLROnPlateau(opt(), { patience: -1 }), 'ReduceLROnPlateau', /patience must be an integer >= 0, got -1/],
  ['ReduceLROnPlateau threshold NaN', () => new nn.ReduceLROnPlateau(opt(), { threshold: NaN }), 'ReduceLROnPlateau', /threshold must be a finite number >= 0, got NaN/],
  ['ReduceLROnPlateau cooldown 0.5', () => new nn.ReduceLROnPlateau(opt(), { cooldown: 0.5 }), 'ReduceLROnPlateau', /cooldown must be an integer >= 0, got 0.5/],
  ['ReduceLROnPlateau minLr NaN', () => new nn.ReduceLROnPlateau(opt(), { minLr: NaN }), 'ReduceLROnPlateau', /minLr must be a finite number >= 0, got NaN/],
  ['ReduceLROnPlateau eps -1', () => new nn.ReduceLROnPlateau(opt(), { eps: -1 }), 'ReduceLROnPlateau', /eps must be a finite number >= 0, got -1/],
  ['ReduceLROnPlateau min_lr', () => new nn.ReduceLROnPlateau(opt(), js({ min_lr: 0 })), 'ReduceLROnPlateau', /unknown option 'min_lr' \(did you mean 'minLr'\?\)/],
  // Gradient clipping.
  ['clipGradNorm_ maxNorm NaN', () => nn.clipGradNorm_([param()], NaN), 'clipGradNorm_', /maxNorm must be a number >= 0, got NaN/],
  ['clipGradNorm_ maxNorm -1', () => nn.clipGradNorm_([param()], -1), 'clipGradNorm_', /maxNorm must be a number >= 0, got -1/],
  ["clipGradNorm_ maxNorm '1'", () => nn.clipGradNorm_([param()], js('1')), 'clipGradNorm_', /maxNorm must be a number >= 0, got '1'/],
  ['clipGradNorm_ normType NaN', () => nn.clipGradNorm_([param()], 1, NaN), 'clipGradNorm_', /normType must be positive/],
];

describe('bad hyper-parameters: ArgumentError at construction, naming the class and the value', () => badCalls(CASES, ArgumentError));

describe('what stays accepted', () => {
  test('the boundaries, parameter groups with their own values, Infinity and 0 for maxNorm', () => {
    withDevice(cpu, () => {
      expect(new nn.SGD([param()], { lr: 0, momentum: 0.9, dampening: 0.1 }).defaults.dampening).toBe(0.1);
      expect(new nn.Adam([param()], { betas: [0, 0.5] }).defaults.betas).toEqual([0, 0.5]);
      // Parameter groups may carry their own hyper-parameters and a scheduler's initialLr.
      const sgd = new nn.SGD([{ params: [param()], lr: 0.5, initialLr: 0.5 }], { lr: 0.1 });
      expect(sgd.paramGroups[0]!.lr).toBe(0.5);
      expect(new nn.StepLR(sgd, { stepSize: 1, gamma: 0.5, lastEpoch: -1 }).getLastLr()).toEqual([0.5]);
      expect(new nn.ReduceLROnPlateau(opt(), { factor: 0, minLr: [0] }).factor).toBe(0);
      const p = param();
      p.grad = tensor([3, 4], [2], { device: cpu });
      nn.clipGradNorm_([p], Infinity, 'inf').dispose();
      nn.clipGradNorm_([p], 0).dispose();
    });
  });
});
