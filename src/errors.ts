// Error classes. Every error layerwise throws is a LayerwiseError with a stable `code`; messages
// name the op and the shapes involved. Native failures arrive as NativeError (built by the addon
// through the class registered in native/addon.ts), with the kernel name in `op`.

export class LayerwiseError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Incompatible shapes for an op (names the op and every shape involved). */
export class ShapeError extends LayerwiseError {
  constructor(message: string) {
    super('ERR_SHAPE', message);
  }
}

/** Wrong element type for an op. */
export class DTypeError extends LayerwiseError {
  constructor(message: string) {
    super('ERR_DTYPE', message);
  }
}

/** Tensors on different devices, or a device that is not available. */
export class DeviceError extends LayerwiseError {
  constructor(message: string, code = 'ERR_DEVICE_MISMATCH') {
    super(code, message);
  }
}

/** A tensor used after dispose(). */
export class DisposedError extends LayerwiseError {
  constructor(message: string) {
    super('ERR_DISPOSED', message);
  }
}

/** A bad argument value (negative size, unknown option, ...). */
export class ArgumentError extends LayerwiseError {
  constructor(message: string) {
    super('ERR_INVALID_ARGUMENT', message);
  }
}

/** A state dict or file that does not match what was expected. */
export class StateDictError extends LayerwiseError {
  readonly problems: string[];
  constructor(message: string, problems: string[]) {
    super('ERR_STATE_DICT', message);
    this.problems = problems;
  }
}

/** A file that cannot be read or is malformed; names the file. */
export class FileFormatError extends LayerwiseError {
  readonly file: string;
  constructor(file: string, message: string) {
    super('ERR_FILE_FORMAT', `${file}: ${message}`);
    this.file = file;
  }
}

/** A failure reported by a native kernel: `op` is the kernel name. */
export class NativeError extends LayerwiseError {
  readonly op: string;
  constructor(message: string, code: string, op: string) {
    super(code, message);
    this.op = op;
  }
}
