// Restart under load: the generated default project (socket-activated,
// Accept=no, strict sandbox) under a real systemd user manager, while a
// loopback client sends a steady stream of requests and the test runs
// `systemctl --user restart` again and again. The socket unit owns the
// listening socket, so connections made while no process serves wait in its
// backlog: no request may be refused, reset or cut short. Twice: clients that
// open a connection per request (Connection: close), and keep-alive clients
// whose pooled connections the stopping daemon must not close under a request
// (Node's http.Agent does not retry one; the generated daemon's drain() keeps
// answering on idle connections for a moment, with Connection: close).
import assert from 'node:assert/strict';

import { sleep, useUserManager } from '../helpers/units.js';
import { dropIn, figures, installGenerated, startLoad, until, type InstalledProject, type LoadResult } from '../helpers/under-manager.js';

const REQUESTS = 5000;
const RESTARTS = 5;
const RATE = 250; // requests per second: 5,000 take 20 s, restarts every 3 s fall inside
const CONCURRENCY = 4;

describe('reliability: restart under load (generated project, socket-activated)', function () {
  const m = useUserManager();
  let project: InstalledProject;
  let log: string;

  before(async function () {
    this.timeout(120_000);
    project = await installGenerated(m(), 'rel-restart');
    log = await m().logFile('rel-restart');
    await dropIn(m(), project.service, log, {
      unit: [
        // The generated unit allows 5 starts in 60 s (StartLimitBurst=5): the first start and
        // 5 restarts are 6, and the 6th fails with start-limit-hit. What is under test here
        // is the restart itself, not that limit.
        'StartLimitBurst=20',
      ],
    });
  });

  for (const keepAlive of [false, true]) {
    it(`answers all of ${REQUESTS} requests, ${CONCURRENCY} in flight, across ${RESTARTS} restarts (${keepAlive ? `keep-alive: a pool of ${CONCURRENCY} persistent connections` : 'a new connection per request, Connection: close'})`, async function () {
      this.timeout(120_000);
      const explain = async (): Promise<string> => `\n--- service log ---\n${(await m().readLog(log)).slice(-6000)}`;
      const start = await m().systemctl('start', project.socket);
      assert.equal(start.code, 0, start.stderr);

      const load = startLoad({
        port: project.port,
        concurrency: CONCURRENCY,
        ratePerSecond: RATE,
        keepAlive,
        check: (reply) => reply.status === 200 && (JSON.parse(reply.body) as { name?: string }).name === project.name,
      });
      const pids = new Set<string>();
      const restartMs: number[] = [];
      let result: LoadResult;
      try {
        // The first request started the service through its socket.
        const first = await until(m(), project.service, ['ActiveState', 'MainPID'], (p) => p.ActiveState === 'active', 20_000, explain);
        pids.add(first.MainPID!);
        for (let i = 0; i < RESTARTS; i++) {
          await sleep(3000);
          const began = performance.now();
          const restart = await m().systemctl('restart', project.service);
          restartMs.push(performance.now() - began);
          assert.equal(restart.code, 0, `restart ${i + 1}: ${restart.stderr}${await explain()}`);
          const after = await m().show(project.service, ['ActiveState', 'MainPID']);
          assert.equal(after.ActiveState, 'active', `after restart ${i + 1}: ${JSON.stringify(after)}${await explain()}`);
          pids.add(after.MainPID!);
        }
        while (load.sent < REQUESTS) await sleep(100);
      } finally {
        result = await load.stop();
      }
      const shown = await m().show(project.service, ['ActiveState', 'NRestarts', 'MainPID']);
      figures(keepAlive ? 'restart-under-load-keepalive' : 'restart-under-load', {
        sent: result.sent,
        answered: result.answered,
        failed: result.failed,
        restarts: restartMs.length,
        'main-pids': pids.size,
        'longest-stall-ms': result.longestMs,
        'longest-gap-ms': result.longestGapMs,
        'restart-ms-max': Math.round(Math.max(...restartMs)),
        'elapsed-s': (result.elapsedMs / 1000).toFixed(1),
      });
      const failures = `failures: ${JSON.stringify(result.failures)}\n${result.samples.join('\n')}`;
      assert.ok(result.sent >= REQUESTS, `only ${result.sent} requests sent`);
      assert.equal(result.failed, 0, `${failures}${await explain()}`);
      assert.equal(result.answered, result.sent);
      assert.equal(pids.size, RESTARTS + 1, `every restart started a new process: ${[...pids].join(', ')}`);
      assert.equal(shown.ActiveState, 'active');
      // systemctl restart is not a failure restart: the manager's counter stays at 0.
      assert.equal(shown.NRestarts, '0');
    });
  }
});
