// PID-1 systemd 247: a Debian 11 (bullseye) tree from debootstrap, cached
// between runs, booted under a tmpfs overlay so the cache stays pristine.
// A project generated with the defaults for this machine's newer systemd must
// work here too.
import { debianRoot } from '../helpers/pid1-roots.js';
import { describeDefaults, describeVersion } from './suite.js';

const DEFAULTS = 'pid1-defaults';

describeVersion({
  version: 247,
  tree: async () => {
    const { dir, builtSeconds } = await debianRoot('bullseye');
    return { directory: dir, volatile: 'overlay', builtSeconds };
  },
  extraProjects: [{ name: DEFAULTS, options: {} }],
  more: (ctx) => describeDefaults(ctx, DEFAULTS),
});
