// The set of events a compaction has kept, for an hour of millions of lines: an event is its
// (event_type, event_id) pair (see isFirstCopy in compact-hour.ts). A canonical lowercase UUID id is
// packed into four 32-bit words of an open-addressing table beside a small number for its type:
// 20 bytes an event in the table instead of a "type:uuid" string in a Set (2 M events measured: 80
// instead of 269 MiB of heap). Every other id, and a line without one, is kept as a string, exactly: the
// packed form is the same bits, so two keys are equal in the table only when their strings are.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const WORDS = 5; // four of the UUID, one of the type's number + 1 (0: an empty slot)

export class EventKeySet {
  private table = new Uint32Array(WORDS * 1024);
  private capacity = 1024;
  private packed = 0;
  private readonly others = new Set<string>();
  private readonly types = new Map<string, number>();
  private readonly words = new Uint32Array(4);

  /** Events kept, packed and not. */
  get size(): number {
    return this.packed + this.others.size;
  }

  /** Adds the event; false when it was there already. `id` undefined: the line itself is the key. */
  add(type: string, id: string | undefined, line: string): boolean {
    if (id === undefined) return this.addOther(`line:${line}`);
    if (!UUID.test(id)) return this.addOther(`${type}:${id}`);
    let typeNo = this.types.get(type);
    if (typeNo === undefined) {
      typeNo = this.types.size + 1;
      this.types.set(type, typeNo);
    }
    const w = this.words;
    // 32 hex digits, skipping the dashes at 8, 13, 18 and 23 (the regex checked the shape).
    let word = 0;
    let digits = 0;
    for (let i = 0; i < 36; i++) {
      const c = id.charCodeAt(i);
      if (c === 45) continue;
      word = (word << 4) | (c <= 57 ? c - 48 : c - 87);
      if (++digits % 8 === 0) w[digits / 8 - 1] = word >>> 0;
    }
    if ((this.packed + 1) * 4 > this.capacity * 3) this.grow();
    if (!this.insert(this.table, this.capacity, w, typeNo)) return false;
    this.packed++;
    return true;
  }

  private addOther(key: string): boolean {
    if (this.others.has(key)) return false;
    this.others.add(key);
    return true;
  }

  private static slotOf(w: Uint32Array, typeNo: number, mask: number): number {
    let h = Math.imul((w[0] as number) ^ typeNo, 0x9e3779b1);
    h = Math.imul(h ^ (w[1] as number), 0x85ebca6b);
    h = Math.imul(h ^ (w[2] as number), 0xc2b2ae35);
    h = Math.imul(h ^ (w[3] as number), 0x27d4eb2f);
    return (h ^ (h >>> 15)) & mask;
  }

  private insert(table: Uint32Array, capacity: number, w: Uint32Array, typeNo: number): boolean {
    const mask = capacity - 1;
    for (let slot = EventKeySet.slotOf(w, typeNo, mask); ; slot = (slot + 1) & mask) {
      const at = slot * WORDS;
      const t = table[at + 4] as number;
      if (t === 0) {
        table.set(w, at);
        table[at + 4] = typeNo;
        return true;
      }
      if (
        t === typeNo &&
        table[at] === w[0] &&
        table[at + 1] === w[1] &&
        table[at + 2] === w[2] &&
        table[at + 3] === w[3]
      )
        return false;
    }
  }

  private grow(): void {
    const old = this.table;
    const oldCapacity = this.capacity;
    const capacity = oldCapacity * 2;
    const table = new Uint32Array(WORDS * capacity);
    const w = new Uint32Array(4);
    for (let slot = 0; slot < oldCapacity; slot++) {
      const at = slot * WORDS;
      const typeNo = old[at + 4] as number;
      if (typeNo === 0) continue;
      w.set(old.subarray(at, at + 4));
      this.insert(table, capacity, w, typeNo);
    }
    this.table = table;
    this.capacity = capacity;
  }
}
