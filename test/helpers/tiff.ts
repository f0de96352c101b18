// Uncompressed baseline TIFFs written byte by byte, so tests know the expected values without the decoder under test.

/** An uncompressed TIFF of `pages` (each [height][width] samples of `bits` bits, one channel). */
export function tiff(pages: { width: number; height: number; samples: number[] }[], bits: 8 | 16 | 32, little: boolean, opts: { float?: boolean; whiteIsZero?: boolean } = {}): Uint8Array {
  const bytesPer = bits / 8;
  const entries = (p: (typeof pages)[number], dataOff: number): [number, number, number, number][] => [
    [256, 3, 1, p.width], [257, 3, 1, p.height], [258, 3, 1, bits], [259, 3, 1, 1], [262, 3, 1, opts.whiteIsZero ? 0 : 1],
    [273, 4, 1, dataOff], [277, 3, 1, 1], [278, 3, 1, p.height], [279, 4, 1, p.width * p.height * bytesPer], [339, 3, 1, opts.float ? 3 : 1],
  ];
  let size = 8;
  const layout = pages.map((p) => {
    const ifd = size;
    size += 2 + 12 * 10 + 4;
    const data = size;
    size += p.width * p.height * bytesPer;
    size += size % 2;
    return { ifd, data };
  });
  const buf = new ArrayBuffer(size);
  const dv = new DataView(buf);
  dv.setUint8(0, little ? 0x49 : 0x4d);
  dv.setUint8(1, little ? 0x49 : 0x4d);
  dv.setUint16(2, 42, little);
  dv.setUint32(4, layout[0]!.ifd, little);
  pages.forEach((p, k) => {
    const { ifd, data } = layout[k]!;
    const es = entries(p, data);
    dv.setUint16(ifd, es.length, little);
    es.forEach(([t, type, count, v], i) => {
      const o = ifd + 2 + 12 * i;
      dv.setUint16(o, t, little);
      dv.setUint16(o + 2, type, little);
      dv.setUint32(o + 4, count, little);
      if (type === 3) dv.setUint16(o + 8, v, little);
      else dv.setUint32(o + 8, v, little);
    });
    dv.setUint32(ifd + 2 + 12 * es.length, k + 1 < pages.length ? layout[k + 1]!.ifd : 0, little);
    p.samples.forEach((s, i) => {
      const o = data + i * bytesPer;
      if (bits === 8) dv.setUint8(o, s);
      else if (bits === 16) dv.setUint16(o, s, little);
      else if (opts.float) dv.setFloat32(o, s, little);
      else dv.setUint32(o, s, little);
    });
  });
  return new Uint8Array(buf);
}
