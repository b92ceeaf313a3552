// systemd's fdname_is_valid(): what a name in LISTEN_FDNAMES or FDNAME= may be.
// A module of its own so that socket activation (adopt.ts) can check names
// without loading notify.ts: the bundle (scripts/bundle.js) then keeps
// listen()'s code path out of the chunk that holds notify, log and journal.
// notify.ts re-exports both names: they are public there.

/** The longest name systemd accepts (FDNAME_MAX). */
export const FDNAME_MAX = 255;

/** True when `name` is acceptable as FDNAME= or in LISTEN_FDNAMES (systemd's fdname_is_valid). */
export function isValidFdName(name: string): boolean {
  if (name.length > FDNAME_MAX) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x20 || c >= 0x7f || c === 0x3a /* ':' separates names in LISTEN_FDNAMES */) return false;
  }
  return true;
}
