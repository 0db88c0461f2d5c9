// Small CNNs for 28x28 grayscale data (Fashion-MNIST, MNIST).
// SmallCNN, the default model of `npm run train`: two conv-BN-ReLU-maxpool stages (32, 64
// channels) keep the 7x7 spatial layout for a hidden fully connected layer, which is what lets it
// pass 90% on Fashion-MNIST within a few epochs (a global-average-pooled head needs many more).
// Convolutions followed by BatchNorm have no bias (as in torchvision's ResNets): BN removes it, so
// its gradient is rounding noise and its probed eta would be arbitrary.
// CNN3 is the benchmark design: three conv-BN-ReLU stages (32, 64, 128; strides 1, 2, 2), global
// average pooling and one linear layer.
import { AdaptiveAvgPool2d } from '../nn/adaptive-avgpool2d';
import { BatchNorm2d } from '../nn/batchnorm2d';
import { Conv2d } from '../nn/conv2d';
import { Flatten } from '../nn/flatten';
import { Linear } from '../nn/linear';
import { MaxPool2d } from '../nn/maxpool2d';
import { ReLU } from '../nn/relu';
import { Sequential } from '../nn/sequential';

export function smallCnn(inChannels: number, imageSize: number, classes: number, hidden = 128): Sequential {
  const spatial = Math.floor(Math.floor(imageSize / 2) / 2);
  return new Sequential(
    ['conv1', new Conv2d(inChannels, 32, 3, { padding: 1, bias: false })],
    ['bn1', new BatchNorm2d(32)],
    ['relu1', new ReLU()],
    ['pool1', new MaxPool2d(2)],
    ['conv2', new Conv2d(32, 64, 3, { padding: 1, bias: false })],
    ['bn2', new BatchNorm2d(64)],
    ['relu2', new ReLU()],
    ['pool2', new MaxPool2d(2)],
    ['flatten', new Flatten()],
    ['fc1', new Linear(64 * spatial * spatial, hidden)],
    ['relu3', new ReLU()],
    ['fc2', new Linear(hidden, classes)],
  );
}

export function cnn3(inChannels: number, classes: number): Sequential {
  const block = (i: number, cin: number, cout: number, stride: number): [string, Conv2d | BatchNorm2d | ReLU][] => [
    [`conv${i}`, new Conv2d(cin, cout, 3, { stride, padding: 1, bias: false })],
    [`bn${i}`, new BatchNorm2d(cout)],
    [`relu${i}`, new ReLU()],
  ];
  return new Sequential(
    ...block(1, inChannels, 32, 1), ...block(2, 32, 64, 2), ...block(3, 64, 128, 2),
    ['pool', new AdaptiveAvgPool2d(1)],
    ['flatten', new Flatten()],
    ['fc', new Linear(128, classes)],
  );
}
