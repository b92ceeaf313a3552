// How a test waits on a service: re-check on each of its 'change' events
// until the answer is there, the service has ended, or the time is up. A
// failure says why in one error a test author can act on.
import type { EventEmitter } from 'node:events';

import { delay } from '../quiet-fd.js';
import { checkDuration, DEFAULT_TIMEOUT_MS } from './clock.js';
import type { FakeNotification, FakeViolation } from './notification.js';

/** What is waited on. */
export interface WaitSubject {
  /** The emitter of 'change' events. */
  events: EventEmitter;
  /** Whether the service has ended: no later answer can come. */
  ended(): boolean;
  /** Settles when all of the service's output has been read. */
  outputClosed: Promise<void>;
  /** The error saying `what` went wrong (see failureReport()). */
  failure(what: string): Error;
}

/** Resolves with check()'s first defined value. */
export function waitUntil<T>(subject: WaitSubject, what: string, timeoutMs: number | undefined, check: () => T | undefined): Promise<T> {
  const limit = timeoutMs ?? DEFAULT_TIMEOUT_MS;
  checkDuration('timeoutMs', limit);
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | null = null;
    const finish = (): void => {
      if (timer) clearTimeout(timer);
      subject.events.off('change', onChange);
    };
    const onChange = (): void => {
      const value = check();
      if (value !== undefined) {
        finish();
        resolve(value);
      } else if (subject.ended()) {
        finish();
        // Output still in the pipe belongs in the error; a leftover holding the pipe must not stall it.
        void Promise.race([subject.outputClosed, delay(500)]).then(() => reject(subject.failure(`exited before ${what}`)));
      }
    };
    subject.events.on('change', onChange);
    timer = setTimeout(() => {
      finish();
      reject(subject.failure(`timed out after ${limit} ms waiting for ${what}`));
    }, limit);
    onChange();
  });
}

/** What a failed wait shows about the service at that moment. */
export interface ServiceSnapshot {
  pid: number;
  state: string;
  exit: { code: number | null; signal: string | null; result: string } | null;
  messages: readonly FakeNotification[];
  violations: readonly FakeViolation[];
  stderr: string;
}

/** An error that carries what a test author needs to see why: the state or exit, the last messages and warnings, the end of stderr. */
export function failureReport(what: string, service: ServiceSnapshot): Error {
  const { exit } = service;
  const lines = [`FakeService (pid ${service.pid}): ${what}`];
  lines.push(exit ? `  exited: code ${exit.code}, signal ${exit.signal}, result ${exit.result}` : `  state: ${service.state}`);
  const last = service.messages.slice(-5).map((m) => `    ${JSON.stringify(m.raw)}${m.accepted ? '' : ` (rejected: ${m.rejection})`}`);
  lines.push(last.length ? `  last messages:\n${last.join('\n')}` : '  no messages received');
  const violations = service.violations.slice(-5).map((v) => `    ${v.text}`);
  if (violations.length) lines.push(`  violations:\n${violations.join('\n')}`);
  const stderr = service.stderr.slice(-2000).trimEnd();
  if (stderr) lines.push(`  stderr:\n${stderr.replace(/^/gm, '    ')}`);
  return new Error(lines.join('\n'));
}
