import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MAX_FILE_NAME_LENGTH, cleanFileName } from '../../src/services/file-names';

describe('file names', () => {
  it('keeps only the last part of a path, Windows or POSIX', () => {
    assert.equal(cleanFileName('C:\\Users\\jo\\report.pdf'), 'report.pdf');
    assert.equal(cleanFileName('../../etc/passwd'), 'passwd');
  });

  it('drops control and bidirectional-override characters', () => {
    assert.equal(cleanFileName('invoice\u202Efdp.exe'), 'invoicefdp.exe');
    assert.equal(cleanFileName('a\u0000b\r\nc\u2066d\u200F.txt'), 'abcd.txt');
  });

  it('normalises to NFC', () => {
    assert.equal(cleanFileName('Cafe\u0301.txt'), 'Caf\u00e9.txt');
  });

  it('shortens to 200 characters and keeps the extension', () => {
    const name = cleanFileName(`${'é'.repeat(300)}.xlsx`);
    assert.equal(Array.from(name).length, MAX_FILE_NAME_LENGTH);
    assert.ok(name.endsWith('é.xlsx'));
  });

  it('names a file that has no usable name "attachment"', () => {
    for (const raw of ['', '   ', '..', 'dir/', '\u202E'])
      assert.equal(cleanFileName(raw), 'attachment');
  });

  it('whatever it is given, gives a short, single-line, path-free NFC name', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (raw) => {
        const name = cleanFileName(raw);
        assert.ok(name.length > 0);
        assert.ok(Array.from(name).length <= MAX_FILE_NAME_LENGTH);
        assert.equal(name, name.normalize('NFC'));
        assert.doesNotMatch(name, /[/\\\p{Cc}\u202a-\u202e\u2066-\u2069]/u);
      }),
    );
  });
});
