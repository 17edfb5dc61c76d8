import { crc32 } from 'node:zlib';
import sharp from 'sharp';

/**
 * One small real file of each allowed type, and files that only pretend to be one: the detector
 * judges content, so the fixtures must be real formats, not renamed text.
 */

/** A ZIP archive of stored (uncompressed) entries: enough for an Office Open XML signature. */
export function zipOf(entries: Record<string, string>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, text] of Object.entries(entries)) {
    const nameBytes = Buffer.from(name);
    const data = Buffer.from(text);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    locals.push(local, nameBytes, data);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, nameBytes);
    offset += 30 + nameBytes.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(entries).length, 8);
  end.writeUInt16LE(Object.keys(entries).length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

function officeFile(main: string, part: string): Buffer {
  return zipOf({
    '[Content_Types].xml': `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/${part}" ContentType="application/vnd.openxmlformats-officedocument.${main}.main+xml"/></Types>`,
    [part]: '<?xml version="1.0"?><document/>',
  });
}

const image = () => sharp({ create: { width: 4, height: 4, channels: 3, background: '#1d70b8' } });

export interface SampleFile {
  name: string;
  content: Buffer;
  type: string;
}

/** One of each allowed type, with the content type the server must detect. */
export async function allowedSamples(): Promise<SampleFile[]> {
  return [
    { name: 'screenshot.png', content: await image().png().toBuffer(), type: 'image/png' },
    { name: 'photo.jpg', content: await image().jpeg().toBuffer(), type: 'image/jpeg' },
    { name: 'anim.gif', content: await image().gif().toBuffer(), type: 'image/gif' },
    { name: 'modern.webp', content: await image().webp().toBuffer(), type: 'image/webp' },
    { name: 'invoice.pdf', content: pdf(), type: 'application/pdf' },
    {
      name: 'notes.txt',
      content: Buffer.from('The printer says PC LOAD LETTER.\n'),
      type: 'text/plain',
    },
    {
      name: 'orders.csv',
      content: Buffer.from('id,item,qty\n1,toner,2\n2,paper,"10,000"\n'),
      type: 'text/csv',
    },
    {
      name: 'letter.docx',
      content: officeFile('wordprocessingml.document', 'word/document.xml'),
      type: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    },
    {
      name: 'figures.xlsx',
      content: officeFile('spreadsheetml.sheet', 'xl/workbook.xml'),
      type: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    },
    {
      name: 'deck.pptx',
      content: officeFile('presentationml.presentation', 'ppt/presentation.xml'),
      type: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
    },
  ];
}

export function pdf(): Buffer {
  return Buffer.from(
    '%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n',
  );
}

export async function png(): Promise<Buffer> {
  return image().png().toBuffer();
}

/** Files named like an allowed type whose content is not one. */
export function disguisedSamples(): { name: string; content: Buffer }[] {
  return [
    { name: 'cat.png', content: Buffer.from('<!DOCTYPE html><script>alert(1)</script>') },
    {
      name: 'logo.png',
      content: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
    },
    {
      name: 'report.pdf',
      content: Buffer.concat([Buffer.from('MZ'), Buffer.alloc(200), Buffer.from('PE\0\0')]),
    },
    { name: 'archive.docx', content: zipOf({ 'readme.txt': 'not an office file' }) },
    { name: 'notes.txt', content: Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0]) },
  ];
}
