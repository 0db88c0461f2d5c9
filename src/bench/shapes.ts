// Parameter shapes of torchvision's ResNet-50 (v1.5): 161 tensors, 25,557,032 values. Used by the
// fused optimizer-step benchmarks, which need a parameter set of the real sizes, not the model.
export function resnet50ParamShapes(classes = 1000): number[][] {
  const shapes: number[][] = [[64, 3, 7, 7], [64], [64]];
  const bn = (c: number) => shapes.push([c], [c]);
  let inC = 64;
  for (const [width, blocks] of [[64, 3], [128, 4], [256, 6], [512, 3]]) {
    for (let b = 0; b < blocks; b++) {
      shapes.push([width, inC, 1, 1]);
      bn(width);
      shapes.push([width, width, 3, 3]);
      bn(width);
      shapes.push([width * 4, width, 1, 1]);
      bn(width * 4);
      if (b === 0) {
        shapes.push([width * 4, inC, 1, 1]);
        bn(width * 4);
      }
      inC = width * 4;
    }
  }
  shapes.push([classes, 2048], [classes]);
  return shapes;
}
