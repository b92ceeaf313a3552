// PID-1 systemd 257: a Debian 13 (trixie) tree from debootstrap, cached
// between runs, booted under a tmpfs overlay so the cache stays pristine.
// Here Type=notify-reload runs for real, and a project generated with the
// defaults for this machine's older systemd must work as well.
import { debianRoot } from '../helpers/pid1-roots.js';
import { describeDefaults, describeVersion } from './suite.js';

const DEFAULTS = 'pid1-defaults';

describeVersion({
  version: 257,
  tree: async () => {
    const { dir, builtSeconds } = await debianRoot('trixie');
    return { directory: dir, volatile: 'overlay', builtSeconds };
  },
  extraProjects: [{ name: DEFAULTS, options: {} }],
  more: (ctx) => describeDefaults(ctx, DEFAULTS),
});
