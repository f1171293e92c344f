// Human-readable figures for the CLI and the memory SVG.

/** Bytes as a short binary-unit figure, e.g. "14.74 GiB" (plain bytes below 1 KiB). */
export function formatBytes(bytes: number, digits = 2): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(digits)} ${units[unit]}`;
}
