/**
 * A minimal Office Open XML workbook (.xlsx): one sheet, a header row and one row per entity,
 * numbers as numbers and everything else as inline strings. Enough for spreadsheet applications
 * to open the Excel publisher's output; no styles, formulas or shared strings.
 */

export interface Cell {
  text: string;
  numeric: boolean;
}

function escapeXml(s: string): string {
  // Characters XML 1.0 cannot hold are dropped.
  return s.replace(/[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A1-style column letters for a 0-based column index. */
export function columnName(i: number): string {
  let s = '';
  for (let n = i + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}

function rowXml(r: number, cells: Cell[]): string {
  let out = `<row r="${r}">`;
  cells.forEach((c, i) => {
    const ref = `${columnName(i)}${r}`;
    if (c.text === '') return;
    out += c.numeric && Number.isFinite(Number(c.text)) ? `<c r="${ref}"><v>${c.text}</v></c>` : `<c r="${ref}" t="inlineStr"><is><t xml:space="preserve">${escapeXml(c.text)}</t></is></c>`;
  });
  return out + '</row>';
}

const enc = new TextEncoder();

/** The workbook of `rows` (the first may be a header), sheet named `sheetName`. */
export async function xlsxWorkbook(rows: AsyncIterable<Cell[]>, sheetName = 'Sheet1'): Promise<Buffer> {
  const parts: string[] = [];
  let r = 0;
  for await (const cells of rows) parts.push(rowXml(++r, cells));
  const sheet = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>${parts.join('')}</sheetData></worksheet>`;
  const name = escapeXml(sheetName.replace(/[\\/?*[\]:]/g, '_').slice(0, 31) || 'Sheet1');
  const files: Record<string, string> = {
    '[Content_Types].xml':
      '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
    '_rels/.rels':
      '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    'xl/workbook.xml': `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="${name}" sheetId="1" r:id="rId1"/></sheets></workbook>`,
    'xl/_rels/workbook.xml.rels':
      '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
    'xl/worksheets/sheet1.xml': sheet,
  };
  // Loaded here, not at start: most runs never write a workbook.
  const { zipSync } = await import('fflate');
  return Buffer.from(zipSync(Object.fromEntries(Object.entries(files).map(([k, v]) => [k, enc.encode(v)])), { level: 6 }));
}

export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
