// ImageFileError: an image file that cannot become a sample (truncated, corrupt, over the pixel
// limit, or not an image format libvips reads). It names the file and carries a `reason`, so the
// pipeline can replace the sample (--skip-bad-images) and list it, or stop with the file's name.
import { FileFormatError } from '../../errors';

export type ImageFileErrorReason = 'corrupt' | 'truncated' | 'too-large' | 'unsupported';

export class ImageFileError extends FileFormatError {
  readonly reason: ImageFileErrorReason;
  /** The decoder's own message. */
  readonly detail: string;
  constructor(file: string, reason: ImageFileErrorReason, detail: string) {
    super(file, `${reason} image: ${detail}`);
    this.reason = reason;
    this.detail = detail;
  }
}

/** Classifies a sharp/libvips failure message. */
export function imageErrorReason(message: string): ImageFileErrorReason {
  const m = message.toLowerCase();
  if (m.includes('exceeds pixel limit')) return 'too-large';
  if (m.includes('unsupported image format')) return 'unsupported';
  // libjpeg's warnings about damaged scan data ("Corrupt JPEG data: premature end of data
  // segment") are corruption; "premature end of JPEG image" is a file cut short.
  if (m.includes('corrupt')) return 'corrupt';
  if (m.includes('premature end') || m.includes('truncated') || m.includes('unexpected end')) {
    return 'truncated';
  }
  return 'corrupt';
}

/** Wraps any decoder failure as an ImageFileError naming `file`; an ImageFileError passes through. */
export function toImageFileError(file: string, err: unknown): ImageFileError {
  if (err instanceof ImageFileError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const firstLine = message.split('\n')[0];
  return new ImageFileError(file, imageErrorReason(message), firstLine);
}
