// Prints the rows of the Parquet files named on the command line, one a
// line, tab-separated, as hyparquet (an independent Parquet reader in
// JavaScript) reads them; -0 is printed as "-0". Used by the ratings tests
// to check the files recs writes against a reader that is not arrow-go.
import { parquetReadObjects } from 'hyparquet';
import fs from 'fs';

for (const path of process.argv.slice(2)) {
  const buf = fs.readFileSync(path);
  const rows = await parquetReadObjects({ file: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) });
  const out = [];
  for (const r of rows) {
    const rating = Object.is(r.rating, -0) ? '-0' : String(r.rating);
    out.push(`${r.user}\t${r.item}\t${rating}\t${r.timestamp ?? ''}`);
    if (out.length === 65536) {
      fs.writeSync(1, out.join('\n') + '\n');
      out.length = 0;
    }
  }
  if (out.length > 0) fs.writeSync(1, out.join('\n') + '\n');
}
