// Notify payloads as text (the harness and the contract:
// test/helpers/notify-payloads.ts): over-long values counted in bytes, not
// characters, invalid field names, and the raw form's own errors; FDNAME at
// its limits still passes.
import { notify, removeStoredFds, status, storeFds } from 'sd-daemon-runtime';

import { assertClean, devNull, describePayloads, runAccepted, runRejected } from '../helpers/notify-payloads.js';
import type { Accepted, Rejected } from '../helpers/notify-payloads.js';

describePayloads('text', function () {
  describe('over-long text values (bytes, not characters)', function () {
    it('STATUS, BUSERROR, X_ and raw text: 4097 bytes is a RangeError naming the limit, 4096 passes', async function () {
      const rejected: Rejected[] = [];
      const accepted: Accepted[] = [];
      for (const key of ['STATUS', 'BUSERROR', 'X_CUSTOM']) {
        const room = (total: number): number => total - Buffer.byteLength(`${key}=`);
        rejected.push({
          what: `${key} of 4097 ASCII bytes`,
          call: (env) => notify({ [key]: 's'.repeat(room(4097)) } as never, { env }),
          error: 'RangeError',
          names: /4097 bytes.*4096/,
        });
        // 2-byte characters: fewer than 4096 characters, more than 4096 bytes.
        rejected.push({
          what: `${key} of 4097 bytes in 2-byte characters`,
          call: (env) => notify({ [key]: '\u00e9'.repeat(room(4097) / 2) } as never, { env }),
          error: 'RangeError',
          names: /4096/,
        });
        rejected.push({
          what: `${key} of 1 MiB`,
          call: (env) => notify({ [key]: 'x'.repeat(1 << 20) } as never, { env }),
          error: 'RangeError',
          names: /4096/,
        });
        accepted.push({
          what: `${key} of 4096 ASCII bytes`,
          call: (env) => notify({ [key]: 's'.repeat(room(4096)) } as never, { env }),
          text: `${key}=${'s'.repeat(room(4096))}`,
        });
        accepted.push({
          what: `${key} of 4096 bytes in 2-byte characters`,
          call: (env) => notify({ [key]: `${'\u00e9'.repeat((room(4096) - 1) / 2)}x` } as never, { env }),
          text: `${key}=${'\u00e9'.repeat((room(4096) - 1) / 2)}x`,
        });
      }
      rejected.push({
        what: 'raw text of 4097 bytes',
        call: (env) => notify(`STATUS=${'s'.repeat(4090)}`, { env }),
        error: 'RangeError',
        names: /4097 bytes.*4096/,
      });
      rejected.push({
        what: 'raw RELOADING=1 that MONOTONIC_USEC pushes past 4096',
        call: (env) => notify(`RELOADING=1\nX_PAD=${'p'.repeat(4090 - 18)}`, { env }),
        error: 'RangeError',
        names: /4096/,
      });
      accepted.push({
        what: 'raw text of 4096 bytes',
        call: (env) => notify(`STATUS=${'s'.repeat(4089)}`, { env }),
        text: `STATUS=${'s'.repeat(4089)}`,
      });
      assertClean(await runRejected(rejected));
      assertClean(await runAccepted(accepted));
    });
  });

  describe('field names and the raw form', function () {
    it('refuses invalid keys, a NUL, an empty or absent state, and what is not a state', async function () {
      const keys = ['ready', 'X-DASH', '1ABC', '', 'A B', 'A=B', 'X_\n', 'STATUS\0'];
      const rows: Rejected[] = keys.map((key) => ({
        what: `key ${JSON.stringify(key)}`,
        call: (env) => notify({ [key]: '1' } as never, { env }),
        error: 'TypeError',
        names: JSON.stringify(key),
      }));
      rows.push(
        { what: 'raw text with a NUL', call: (env) => notify('READY=1\0', { env }), error: 'TypeError', names: 'NUL' },
        { what: 'raw text with a NUL mid-field', call: (env) => notify('STATUS=a\0b\nREADY=1', { env }), error: 'TypeError', names: 'NUL' },
        { what: 'an empty raw text', call: (env) => notify('', { env }), error: 'TypeError', names: 'empty' },
        { what: 'an object with no fields', call: (env) => notify({}, { env }), error: 'TypeError', names: 'no fields' },
        {
          what: 'an object whose fields are all undefined',
          call: (env) => notify({ STATUS: undefined }, { env }),
          error: 'TypeError',
          names: 'no fields',
        },
        { what: 'null', call: (env) => notify(null as never, { env }), error: 'TypeError', names: 'state' },
        { what: 'undefined', call: (env) => notify(undefined as never, { env }), error: 'TypeError', names: 'state' },
        { what: 'a number', call: (env) => notify(5 as never, { env }), error: 'TypeError', names: 'state' },
        { what: 'a symbol', call: (env) => notify(Symbol('READY=1') as never, { env }), error: 'TypeError', names: 'state' },
        // README: "an invalid FDNAME" is a programmer error; the raw form carries FDNAME= too.
        {
          what: "raw FDSTORE=1 with FDNAME=a:b (':' separates names in LISTEN_FDNAMES)",
          call: (env) => notify('FDSTORE=1\nFDNAME=a:b', { env, fds: [devNull] }),
          error: 'TypeError',
          names: 'FDNAME',
        },
        {
          what: 'raw FDSTOREREMOVE=1 with a 256-character FDNAME',
          call: (env) => notify(`FDSTOREREMOVE=1\nFDNAME=${'n'.repeat(256)}`, { env }),
          error: 'TypeError',
          names: 'FDNAME',
        },
      );
      assertClean(await runRejected(rows));
    });

    it('accepts FDNAME at its limits: 255 characters, empty, every printable ASCII character but ":"', async function () {
      const printable = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i))
        .filter((c) => c !== ':')
        .join('');
      assertClean(
        await runAccepted([
          {
            what: 'FDNAME of 255 characters',
            call: (env) => storeFds('n'.repeat(255), [devNull], { env }),
            text: `FDSTORE=1\nFDNAME=${'n'.repeat(255)}`,
            fds: 1,
          },
          { what: 'an empty FDNAME', call: (env) => removeStoredFds('', { env }), text: 'FDSTOREREMOVE=1\nFDNAME=' },
          {
            what: 'FDNAME of all printable ASCII but ":"',
            call: (env) => storeFds(printable, [devNull], { env }),
            text: `FDSTORE=1\nFDNAME=${printable}`,
            fds: 1,
          },
          {
            what: 'STATUS with control characters other than newline (a status line may hold them)',
            call: (env) => status('a\tb\u0001c\u007f', { env }),
            text: 'STATUS=a\tb\u0001c\u007f',
          },
        ]),
      );
    });
  });
});
