/**
 * Task ends read by the layout of the last task ends (TaskEndLayout): the literal runs of a line
 * checked in place, the values between them read, no key searched for. replay.ts reads a task end
 * by TaskLayouts.read first; when it misses, by its searches (searchTaskEnd), and then offers the
 * line to TaskLayouts.learn, which may make new layouts of it. What both readers share (the metric
 * keys, where a task's values go, how Task Info and Task Metrics are found) is in taskEnd.ts.
 */
import { TASK_DURATION, TASK_LAUNCH, TASK_VALUES } from './summaries';
import { BACKSLASH, CLOSE_BRACE, COLON, NULL_LITERAL, QUOTE, bytesAt, intAt, nextQuote, pastInt, sameBytes } from './jsonBytes';
import { KEYS_BY_LENGTH, METRIC_NAMES, SUCCESS, TASK_INFO, TASK_METRICS, durationOf, resetHead, resetInfo, taskInfoKey, type TaskInts, type TaskMetricsFinder, type TaskSpans, type TaskValues } from './taskEnd';

/**
 * Lines learned from before learning is rationed to one per LAYOUT_READS_PER_LEARN task ends read by
 * layouts, or one more per TASKS_PER_LEARN task ends (so that a log whose task ends repeat their
 * layouts only after a run of lines that do not still learns them): a log whose task ends seldom
 * repeat a layout then costs little more than the searches (a line learned from costs about ten read).
 */
const LEARNS_FREE = 16;
/**
 * Task ends a log is read by the searches alone before it learns layouts of its own: learning from a
 * line costs about ten reads of it, so a small log never earns it back. 10,000 small logs (~20-60
 * task ends each) took 40% more CPU to read with layouts learned from their first lines (--dry-run,
 * 3.6-3.8 -> 5.1-5.6 s). With a TaskLayoutLibrary (readUnit's replays), the logs of a thread read
 * by the layouts the logs before them learned from the first task end on, and learn into it on
 * the library's ration (LIBRARY_LEARNS_FREE) before this.
 */
export const LEARN_AFTER = 256;
const LAYOUT_READS_PER_LEARN = 16;
const TASKS_PER_LEARN = 1024;
/**
 * Task ends read by layouts minus those they missed, kept within [LAYOUTS_OFF, -LAYOUTS_OFF]: at
 * LAYOUTS_OFF (16 misses more than reads, lately) only every LAYOUT_PROBE_EVERY-th task end tries
 * them. A Spark 1.4 shape whose every task end ends in a key of its own was 50-65% slower without
 * this (each line tried four metrics layouts to their end, then searched).
 */
const LAYOUTS_OFF = -16;
const LAYOUT_PROBE_EVERY = 64;
/** Layouts kept per part, the last used first: a log's stages of different kinds may run at once, their task ends in turn. */
const LAYOUTS_KEPT = 4;

/**
 * A part of a task end's line as the last lines wrote it: its bytes cut into literal runs (keys,
 * JSON's punctuation, true, false and null) and the integers and strings between them, each value
 * tagged with what it feeds (a metric, the stage id, …) or nothing. Spark writes a log's task ends
 * in a few layouts (a stage's tasks alike; the Spark 1.4 shape has two, for map and result stages),
 * so a line is read by checking each literal run in place, four bytes a compare, and reading the
 * values between them: no key searched for, none compared with every wanted key (issue 12: the
 * metrics scan was the largest item of a Spark 1.4 shape profile, ~80 of ~400 CPU ms). A line that differs anywhere is read
 * by the searches (replay.ts's searchTaskEnd), and may then become a layout (TaskLayouts.learn): the same line read by
 * the new layout must give what the searches gave, or it is dropped.
 *
 * Two parts, each with its own layouts: the head, from the event name to Task Metrics' value (or, when
 * Task Info holds a non-empty Accumulables list or another object comes first, to that value's key,
 * and Task Metrics is then found from the line's end as the searches find it); and the metrics,
 * from Task Metrics' value to the line's end, or to the last wanted key's value when all eleven
 * are there (as replay.ts's scanMetrics stops). Without summaries the head ends at the end reason.
 */
interface TaskEndLayout {
  /**
   * SEGMENT int32s per segment: the literal's length, its first word (in `wides` for 8 bytes or
   * more, in `words` for 4 to 7), its first byte in `bytes`, then the value's kind and slot.
   */
  readonly segments: Int32Array;
  /**
   * The literals of 8 bytes or more as 8-byte words, read as little-endian doubles: one load and
   * compare per 8 bytes (the line's bytes are read the same way). The last word of each ends with
   * it (overlapping the one before, as sameWords does). Doubles compare equal exactly when their
   * bits do, but for NaN and for 0 and -0: build() makes no layout with such a word (text never
   * has one: its top byte would be 0x7f or 0xff, or all eight bytes 0x00 or 0x80).
   */
  readonly wides: Float64Array;
  /** The literals of 4 to 7 bytes as two little-endian 32-bit words, the first and the last four bytes. */
  readonly words: Uint32Array;
  readonly bytes: Buffer;
  /** A head: it ends at Task Metrics' value. Metrics: they end at the line's end. */
  readonly closed: boolean;
}

const SEGMENT = 5;
const [LITERAL_LENGTH, LITERAL_WORD, LITERAL_BYTE, VALUE_KIND, VALUE_SLOT] = [0, 1, 2, 3, 4] as const;
/** Value kinds: an integer, a string (the literal before it ends with its opening quote), none (the last segment). */
const [INT_VALUE, STRING_VALUE, NO_VALUE] = [0, 1, 2] as const;
/**
 * Value slots: below TASK_DURATION a metric (values[slot]); then the stage id, attempt, launch and
 * finish time (into TaskInts at slot - STAGE_SLOT); then the end reason and the executor id
 * (their start and end in the line, at spans[2 * (slot - REASON_SLOT)]).
 */
const NO_SLOT = -1;
const STAGE_SLOT = TASK_DURATION + 1;
const [ATTEMPT_SLOT, LAUNCH_SLOT, FINISH_SLOT, REASON_SLOT, EXECUTOR_SLOT] = [STAGE_SLOT + 1, STAGE_SLOT + 2, STAGE_SLOT + 3, STAGE_SLOT + 4, STAGE_SLOT + 5] as const;
/** Members of the head whose objects a head layout enters (other objects and arrays end it). */
const [END_REASON_OBJECT, TASK_INFO_OBJECT] = [-2, -3] as const;
const TASK_END_REASON_NAME = Buffer.from('Task End Reason');
const TASK_INFO_NAME = Buffer.from('Task Info');
const HEAD_NAMES: readonly { name: Buffer; depth: number; within: number; slot: number; summaries: boolean }[] = [
  { name: Buffer.from('Stage ID'), depth: 1, within: NO_SLOT, slot: STAGE_SLOT, summaries: true },
  { name: Buffer.from('Stage Attempt ID'), depth: 1, within: NO_SLOT, slot: ATTEMPT_SLOT, summaries: true },
  { name: TASK_END_REASON_NAME, depth: 1, within: NO_SLOT, slot: END_REASON_OBJECT, summaries: false },
  { name: TASK_INFO_NAME, depth: 1, within: NO_SLOT, slot: TASK_INFO_OBJECT, summaries: true },
  { name: Buffer.from('Reason'), depth: 2, within: END_REASON_OBJECT, slot: REASON_SLOT, summaries: false },
  { name: Buffer.from('Launch Time'), depth: 2, within: TASK_INFO_OBJECT, slot: LAUNCH_SLOT, summaries: true },
  { name: Buffer.from('Executor ID'), depth: 2, within: TASK_INFO_OBJECT, slot: EXECUTOR_SLOT, summaries: true },
  { name: Buffer.from('Finish Time'), depth: 2, within: TASK_INFO_OBJECT, slot: FINISH_SLOT, summaries: true },
];
const TRUE_LITERAL = Buffer.from('true');
const FALSE_LITERAL = Buffer.from('false');

/**
 * Reads buf[p, end) by `layout` into values, ints and spans (by slot); where the layout's part ends
 * in the line, or -1 as soon as the line differs from it (or a value it reads is not one the
 * searches would read: an integer past 2^53, a string with an escape).
 */
function runLayout(buf: Buffer, words: DataView, p: number, end: number, layout: TaskEndLayout, values: TaskValues, ints: TaskInts, spans: TaskSpans): number {
  const segments = layout.segments;
  const wides = layout.wides;
  for (let s = 0; s < segments.length; s += SEGMENT) {
    const length = segments[s + LITERAL_LENGTH]!;
    if (p + length > end) return -1;
    if (length >= 8) {
      let w = segments[s + LITERAL_WORD]!;
      const last = p + length - 8;
      for (let q = p; q < last; q += 8) if (words.getFloat64(q, true) !== wides[w++]) return -1;
      if (words.getFloat64(last, true) !== wides[w]) return -1;
    } else if (length >= 4) {
      const w = segments[s + LITERAL_WORD]!;
      if (words.getUint32(p, true) !== layout.words[w] || words.getUint32(p + length - 4, true) !== layout.words[w + 1]) return -1;
    } else {
      const bytes = layout.bytes;
      const at = segments[s + LITERAL_BYTE]!;
      for (let k = 0; k < length; k++) if (buf[p + k] !== bytes[at + k]) return -1;
    }
    p += length;
    const kind = segments[s + VALUE_KIND]!;
    if (kind === NO_VALUE) return p;
    const slot = segments[s + VALUE_SLOT]!;
    if (kind === INT_VALUE) {
      if (slot === NO_SLOT) {
        if (buf[p] === 0x2d) p++;
        const first = p;
        while (p < end && buf[p]! >= 0x30 && buf[p]! <= 0x39) p++;
        if (p === first) return -1;
      } else {
        p = slot < TASK_DURATION ? intAt(buf, p, end, values, slot) : intAt(buf, p, end, ints, slot - STAGE_SLOT);
        if (p === -1) return -1;
      }
    } else {
      const close = nextQuote(buf, words, p, end);
      if (close >= end) return -1;
      if (slot !== NO_SLOT) {
        for (let q = p; q < close; q++) if (buf[q] === BACKSLASH) return -1;
        const at = 2 * (slot - REASON_SLOT);
        spans[at] = p;
        spans[at + 1] = close;
      }
      p = close;
    }
  }
  return p;
}

/** Collects a layout's segments while a line is walked (learnHead, learnMetrics). */
class LayoutBuilder {
  private readonly segments: number[] = [];
  private readonly text: number[] = [];
  /** Where the literal being collected starts in the line. */
  private from: number;

  constructor(
    private readonly buf: Buffer,
    from: number,
  ) {
    this.from = from;
  }

  /** The literal up to `valueAt`, then a value of `kind` for `slot` that ends at `valueEnd` (where the next literal starts). */
  value(valueAt: number, valueEnd: number, kind: number, slot: number): void {
    this.segments.push(valueAt - this.from, this.text.length, kind, slot);
    for (let i = this.from; i < valueAt; i++) this.text.push(this.buf[i]!);
    this.from = valueEnd;
  }

  /** The layout, its last literal ending at `at`; null when a literal has an 8-byte word a double cannot tell apart (see TaskEndLayout.wides). */
  build(at: number, closed: boolean): TaskEndLayout | null {
    this.value(at, at, NO_VALUE, NO_SLOT);
    const bytes = Buffer.from(this.text);
    const wides: number[] = [];
    const words: number[] = [];
    const segments = new Int32Array((this.segments.length / 4) * SEGMENT);
    for (let s = 0; s * 4 < this.segments.length; s++) {
      const [length, byte, kind, slot] = this.segments.slice(s * 4, s * 4 + 4) as [number, number, number, number];
      if (length >= 8) {
        segments.set([length, wides.length, byte, kind, slot], s * SEGMENT);
        for (let k = 0; 8 * k < length; k++) {
          const wide = bytes.readDoubleLE(byte + Math.min(8 * k, length - 8));
          if (Number.isNaN(wide) || wide === 0) return null;
          wides.push(wide);
        }
      } else {
        segments.set([length, words.length, byte, kind, slot], s * SEGMENT);
        if (length >= 4) words.push(bytes.readUInt32LE(byte), bytes.readUInt32LE(byte + length - 4));
      }
    }
    return { segments, wides: Float64Array.from(wides), words: Uint32Array.from(words), bytes, closed };
  }
}

/** Whether buf[start, end) spells `name`. */
function spells(buf: Buffer, start: number, end: number, name: Buffer): boolean {
  return end - start === name.length && sameBytes(buf, start, name);
}

/** Past the JSON integer Spark writes at `at` (an optional minus, digits, no fraction or exponent); -1 when there is none. */
function pastInteger(buf: Buffer, at: number, end: number): number {
  const first = buf[at] === 0x2d ? at + 1 : at;
  const past = pastInt(buf, at, end);
  const next = buf[past];
  return past === first || next === 0x2e || next === 0x65 || next === 0x45 ? -1 : past;
}

/** The length of the literal true, false or null at `at`; 0 when none is there. */
function wordLiteral(buf: Buffer, at: number, end: number): number {
  for (const word of [TRUE_LITERAL, FALSE_LITERAL, NULL_LITERAL]) if (bytesAt(buf, at, end, word)) return word.length;
  return 0;
}

/** A head slot's bit in learnHead's `seen`. */
function slotBit(slot: number): number {
  return 1 << (slot - STAGE_SLOT);
}

/** The slots of Task Info's launch time, executor and finish time. */
const INFO_SLOTS = slotBit(LAUNCH_SLOT) | slotBit(EXECUTOR_SLOT) | slotBit(FINISH_SLOT);

/**
 * The slot of the key whose name is buf[start, end), met at `depth` inside `within` (a member of
 * HEAD_NAMES), or NO_SLOT for a key no layout reads; without summaries, only the keys the record uses.
 */
function headSlot(buf: Buffer, start: number, end: number, depth: number, within: number, summaries: boolean): number {
  for (const key of HEAD_NAMES) {
    if ((key.summaries && !summaries) || key.depth !== depth || key.within !== within || !spells(buf, start, end, key.name)) continue;
    return key.slot;
  }
  return NO_SLOT;
}

/**
 * Whether a value of each kind is one the searches read for a key of `slot` (NO_SLOT: a key not
 * read, whose value a layout only passes over): strings for the end reason and the executor,
 * integers for the stage id, attempt and Task Info's times, and null, which the searches allow
 * for Task Info's times and executor (unknown, as when absent).
 */
function takesString(slot: number): boolean {
  return slot === NO_SLOT || slot === REASON_SLOT || slot === EXECUTOR_SLOT;
}
function takesInteger(slot: number): boolean {
  return slot === NO_SLOT || (slot >= STAGE_SLOT && slot <= FINISH_SLOT);
}
function takesNull(slot: number): boolean {
  return slot === NO_SLOT || slot === LAUNCH_SLOT || slot === FINISH_SLOT || slot === EXECUTOR_SLOT;
}

/** Whether a head layout has the slots the searches always read: the stage id (with summaries) and the end reason. */
function headDone(seen: number, summaries: boolean): boolean {
  const wanted = slotBit(REASON_SLOT) | (summaries ? slotBit(STAGE_SLOT) : 0);
  return (seen & wanted) === wanted;
}

/**
 * A scalar at buf[i] of a head or Task Info being learned (learnHead, learnInfo): an integer, read into
 * `slot`, or true, false or null (null only where `slot` takes it). Where it ends; -1 when `slot`
 * takes no such value (no layout); 0 when buf[i] starts none (a brace, a bracket, punctuation).
 */
function learnScalar(layout: LayoutBuilder, buf: Buffer, i: number, end: number, slot: number): number {
  const c = buf[i]!;
  if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
    const past = pastInteger(buf, i, end);
    if (past === -1 || !takesInteger(slot)) return -1;
    layout.value(i, past, INT_VALUE, slot);
    return past;
  }
  const word = wordLiteral(buf, i, end);
  if (word === 0) return 0;
  return slot !== NO_SLOT && !(takesNull(slot) && buf[i] === 0x6e) ? -1 : i + word;
}

/**
 * The head layout of the task end buf[from, end) (`from` just past the event name), or null when a
 * layout cannot read it: a key it reads twice, a number that is not an integer, a value of a
 * wanted key that is neither what the searches read nor null where they allow it.
 */
function learnHead(buf: Buffer, words: DataView, from: number, end: number, summaries: boolean, toReason: boolean): TaskEndLayout | null {
  const layout = new LayoutBuilder(buf, from);
  let depth = 1;
  /** The object depth 2 is in (END_REASON_OBJECT, TASK_INFO_OBJECT or NO_SLOT), and the slot of the key just read. */
  let within = NO_SLOT;
  let slot = NO_SLOT;
  let seen = 0;
  let infoDone = false;
  for (let i = from; i < end; ) {
    const c = buf[i]!;
    if (c === QUOTE) {
      const close = nextQuote(buf, words, i + 1, end);
      if (close >= end) return null;
      if (buf[close + 1] === COLON) {
        if (depth === 1 && bytesAt(buf, i, end, TASK_METRICS)) return summaries && !toReason && headDone(seen, summaries) ? layout.build(i + TASK_METRICS.length, true) : null;
        slot = headSlot(buf, i + 1, close, depth, within, summaries);
        if (slot >= STAGE_SLOT) {
          if ((seen & slotBit(slot)) !== 0) return null;
          seen |= slotBit(slot);
        }
        i = close + 2;
        continue;
      }
      if (!takesString(slot)) return null;
      layout.value(i + 1, close, STRING_VALUE, slot);
      // A head to the reason (without summaries, or for a failure) ends here; Task Metrics is then
      // found as the searches find it, and Task Info (with summaries) too (TaskLayouts.readTaskInfo).
      if (toReason && slot === REASON_SLOT) return headDone(seen, summaries) ? layout.build(close, false) : null;
      slot = NO_SLOT;
      i = close + 1;
      continue;
    }
    const scalar = learnScalar(layout, buf, i, end, slot);
    if (scalar === -1) return null;
    if (scalar > 0) {
      slot = NO_SLOT;
      i = scalar;
      continue;
    }
    if (c === 0x7b || c === 0x5b) {
      const empty = buf[i + 1] === (c === 0x7b ? CLOSE_BRACE : 0x5d);
      if (empty && slot < STAGE_SLOT) {
        i += 2;
      } else if (c === 0x7b && depth === 1 && (slot === END_REASON_OBJECT || slot === TASK_INFO_OBJECT)) {
        within = slot;
        depth = 2;
        i++;
      } else {
        // Task Info's Accumulables, Task Executor Metrics: the head ends at its key, and its reader
        // looks for Task Metrics from there. Only inside Task Info or after it, and with its wanted
        // keys all seen: the searches look on to Task Metrics for a key not seen before.
        const infoRead = (seen & INFO_SLOTS) === INFO_SLOTS && (within === TASK_INFO_OBJECT || (depth === 1 && infoDone));
        return summaries && !toReason && infoRead && headDone(seen, summaries) && slot === NO_SLOT ? layout.build(i, false) : null;
      }
      slot = NO_SLOT;
      continue;
    }
    if (c === CLOSE_BRACE || c === 0x5d) {
      if (--depth === 0) return null;
      if (within === TASK_INFO_OBJECT) infoDone = true;
      within = NO_SLOT;
      i++;
      continue;
    }
    if (slot !== NO_SLOT) return null;
    i++;
  }
  return null;
}

/**
 * The layout of a Task Info object whose `{` is at `at`, up to its end or to a non-empty object or
 * array in it (its Accumulables), for a task end whose head ends at its reason (a failure's: the
 * searches' Task Info, found back from Task Metrics past the stack trace). Null as learnHead, and
 * when Task Info lacks one of the wanted keys (the searches would look on for it past the layout).
 */
function learnInfo(buf: Buffer, words: DataView, at: number, end: number): TaskEndLayout | null {
  const layout = new LayoutBuilder(buf, at);
  let slot = NO_SLOT;
  let seen = 0;
  for (let i = at + 1; i < end; ) {
    const c = buf[i]!;
    if (c === QUOTE) {
      const close = nextQuote(buf, words, i + 1, end);
      if (close >= end) return null;
      if (buf[close + 1] === COLON) {
        slot = headSlot(buf, i + 1, close, 2, TASK_INFO_OBJECT, true);
        if (slot !== NO_SLOT) {
          if ((seen & slotBit(slot)) !== 0) return null;
          seen |= slotBit(slot);
        }
        i = close + 2;
        continue;
      }
      if (!takesString(slot)) return null;
      layout.value(i + 1, close, STRING_VALUE, slot);
      slot = NO_SLOT;
      i = close + 1;
      continue;
    }
    const scalar = learnScalar(layout, buf, i, end, slot);
    if (scalar === -1) return null;
    if (scalar > 0) {
      slot = NO_SLOT;
      i = scalar;
      continue;
    }
    if (c === 0x7b || c === 0x5b) {
      if (slot !== NO_SLOT) return null;
      // Its Accumulables: the layout ends at them, once every wanted key is seen (see learnHead).
      if (buf[i + 1] !== (c === 0x7b ? CLOSE_BRACE : 0x5d)) return (seen & INFO_SLOTS) === INFO_SLOTS ? layout.build(i, false) : null;
      i += 2;
      continue;
    }
    if (c === CLOSE_BRACE) return slot === NO_SLOT && (seen & INFO_SLOTS) === INFO_SLOTS ? layout.build(i, false) : null;
    if (slot !== NO_SLOT) return null;
    i++;
  }
  return null;
}

/**
 * The metrics layout of buf[at, end), `at` being Task Metrics' value, or null when a layout
 * cannot read it. Its slots are as replay.ts's scanMetrics finds them: the first of each wanted key at any
 * depth; null is not read further (nor is it by the searches).
 */
function learnMetrics(buf: Buffer, words: DataView, at: number, end: number): TaskEndLayout | null {
  const layout = new LayoutBuilder(buf, at);
  if (bytesAt(buf, at, end, NULL_LITERAL)) return layout.build(at + NULL_LITERAL.length, false);
  if (buf[at] !== 0x7b) return null;
  let missing = METRIC_NAMES.length;
  let slot = NO_SLOT;
  let seen = 0;
  for (let i = at + 1; i < end; ) {
    const c = buf[i]!;
    if (c === QUOTE) {
      const close = nextQuote(buf, words, i + 1, end);
      if (close >= end) return null;
      if (buf[close + 1] === COLON) {
        slot = NO_SLOT;
        for (const { index, key } of KEYS_BY_LENGTH[close - i - 1] ?? []) {
          if ((seen & (1 << index)) === 0 && sameBytes(buf, i + 1, key)) slot = index;
        }
        i = close + 2;
        continue;
      }
      if (slot !== NO_SLOT) return null;
      layout.value(i + 1, close, STRING_VALUE, NO_SLOT);
      i = close + 1;
      continue;
    }
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      const past = pastInteger(buf, i, end);
      if (past === -1) return null;
      layout.value(i, past, INT_VALUE, slot);
      if (slot !== NO_SLOT) {
        seen |= 1 << slot;
        if (--missing === 0) return layout.build(past, false);
      }
      slot = NO_SLOT;
      i = past;
      continue;
    }
    if (slot !== NO_SLOT) return null;
    i += Math.max(1, wordLiteral(buf, i, end));
  }
  return layout.build(end, true);
}

/** Moves list[i] to the front, the ones before it back by one. */
function toFront<T>(list: T[], i: number): void {
  const item = list[i]!;
  for (let k = i; k > 0; k--) list[k] = list[k - 1]!;
  list[0] = item;
}

/** `layout` first, then the first of `list`, `kept` in all. */
function withFirst(layout: TaskEndLayout, list: readonly TaskEndLayout[], kept: number): TaskEndLayout[] {
  return [layout, ...list.slice(0, kept - 1)];
}

/** The layouts of each part, the one that read the last line first. */
interface PartLayouts {
  /** Heads that read Task Info too (successes, with summaries). */
  heads: TaskEndLayout[];
  /** Heads that end at the end reason (all of them without summaries), and the Task Info layouts read after them (readTaskInfo). */
  reasonHeads: TaskEndLayout[];
  infoLayouts: TaskEndLayout[];
  metrics: TaskEndLayout[];
}

function noLayouts(): PartLayouts {
  return { heads: [], reasonHeads: [], infoLayouts: [], metrics: [] };
}

/** Whether the end reason at spans[0, 1) is `Success`. */
function succeeded(buf: Buffer, spans: TaskSpans): boolean {
  return spans[1]! - spans[0]! === SUCCESS.length && sameBytes(buf, spans[0]!, SUCCESS);
}

/**
 * The head of the task end buf[from, end) read by the first layout of `list` that reads it (with
 * `success`, only a success's: its Task Info the searches take right after its reason, taskInfoKey),
 * which moves to the list's front; where the head ends, or -1 when none reads it.
 */
function readHead(buf: Buffer, words: DataView, from: number, end: number, list: TaskEndLayout[], success: boolean, values: TaskValues, ints: TaskInts, spans: TaskSpans): number {
  for (let k = 0; k < list.length; k++) {
    resetHead(ints, spans);
    const p = runLayout(buf, words, from, end, list[k]!, values, ints, spans);
    if (p !== -1 && (!success || succeeded(buf, spans))) {
      if (k > 0) toFront(list, k);
      return p;
    }
  }
  return -1;
}

/** Task Info buf[at, tm) read by the first layout of `list` that reads it, which moves to the front; false when none does. */
function readInfo(buf: Buffer, words: DataView, at: number, tm: number, list: TaskEndLayout[], values: TaskValues, ints: TaskInts, spans: TaskSpans): boolean {
  for (let k = 0; k < list.length; k++) {
    resetInfo(ints, spans);
    if (runLayout(buf, words, at, tm, list[k]!, values, ints, spans) !== -1) {
      if (k > 0) toFront(list, k);
      return true;
    }
  }
  return false;
}

/** Task Metrics' value buf[at, end) read by the first layout of `list` that reads it, which moves to the front; false when none does. */
function readMetrics(buf: Buffer, words: DataView, at: number, end: number, list: TaskEndLayout[], values: TaskValues, ints: TaskInts, spans: TaskSpans): boolean {
  for (let m = 0; m < list.length; m++) {
    values.fill(NaN);
    const metrics = list[m]!;
    const q = runLayout(buf, words, at, end, metrics, values, ints, spans);
    if (q !== -1 && (q === end || !metrics.closed)) {
      if (m > 0) toFront(list, m);
      return true;
    }
  }
  return false;
}

/**
 * Layouts per part a TaskLayoutLibrary keeps. The 10,000 small logs of issue #12 (nine Spark 1.2-3.0
 * applications) need 2 heads and 8 metrics layouts; a line that no layout reads tries them all.
 */
const LIBRARY_KEPT = 16;
/**
 * Lines the replays of a library learn from before learning is rationed to one per
 * LAYOUT_READS_PER_LEARN task ends its layouts read, or one more per TASKS_PER_LEARN task ends they
 * searched (so that a thread whose first logs share no layout still learns those of the next ones).
 */
const LIBRARY_LEARNS_FREE = 64;
/**
 * Task ends a thread's small logs are read by the searches alone before their library learns: a
 * command that reads a few small logs (issue #12's start-up: 4 logs of 80 task ends) would pay for
 * compiling the learning and layout code, +10-15 ms and +1 MB of its 150 ms and 60 MB, and gain
 * nothing; 10,000 such logs lose the layouts of their first ~50.
 */
export const LIBRARY_LEARNS_AFTER = 1024;

/**
 * The layouts the replays of one thread share (readLog.ts keeps one per thread and setting of
 * summaries), so that a log of a few dozen task ends, which never learns layouts of its own
 * (LEARN_AFTER), reads them by the layouts of the logs before it: Spark writes the task ends of
 * every application of a version alike (issue #12: 10,000 logs of ~20-50 task ends, each searched).
 * A replay takes a layout from here into its own (TaskLayouts) when none of those reads a part of a
 * line, and puts what it learns here too. Layouts are exact for any line they read, whichever log
 * they were learned from, and are never changed once made; replays reading at once (async reads
 * interleave between chunks) only reorder these lists, each within one line's read.
 */
export class TaskLayoutLibrary {
  readonly layouts = noLayouts();
  /** Task ends its replays read by layouts; before their own LEARN_AFTER, task ends they searched and lines they learned from (see LIBRARY_LEARNS_FREE). */
  reads = 0;
  searched = 0;
  learns = 0;
  /**
   * Task ends that looked here for a layout; of those that found one, minus those that did not, within
   * [LAYOUTS_OFF, -LAYOUTS_OFF] (as TaskLayouts' score): `first` for the first task end of a replay
   * that looks, `score` for the others. The first lines of a log are where a library pays: logs whose
   * other lines never repeat a layout must not keep the next logs from it, and logs that share none
   * must not pay a look for each.
   */
  lookups = 0;
  first = 0;
  score = 0;

  /**
   * @param summaries whether its replays read the stage and executor summaries (their heads then read Task Info)
   * @param learnsAfter task ends its replays search before it learns (LIBRARY_LEARNS_AFTER)
   */
  constructor(
    readonly summaries: boolean,
    readonly learnsAfter = LIBRARY_LEARNS_AFTER,
  ) {}

  /** Whether a replay may learn from a line before its own LEARN_AFTER task ends: the layouts learned so pay for their learning. */
  get learning(): boolean {
    return this.searched >= this.learnsAfter && this.learns < LIBRARY_LEARNS_FREE + this.reads / LAYOUT_READS_PER_LEARN + this.searched / TASKS_PER_LEARN;
  }
}

/**
 * The layouts a replay keeps (LAYOUTS_KEPT per part, the one that read the last line first), when
 * it tries them (LAYOUTS_OFF) and when it learns new ones (LEARNS_FREE). It reads into the replay's
 * TaskValues, TaskInts and TaskSpans, and finds Task Metrics with the replay's finder, as the
 * searches do. Not for a line the searches could not read: learn() takes only what they read.
 * With a library (TaskLayoutLibrary), a part none of its layouts reads is looked for there, and
 * what it learns is put there too.
 */
export class TaskLayouts {
  private readonly own = noLayouts();
  /** Task ends read by layouts, and lines learned from (see LEARNS_FREE). */
  private reads = 0;
  private learns = 0;
  /** See LAYOUTS_OFF. */
  private score = 0;
  /** The library's layouts for the task end being read: undefined before a part looks there, null when it is off (see shared()). */
  private sharedNow: PartLayouts | null | undefined;
  /** Whether a task end of this replay looked in the library (see TaskLayoutLibrary.first), and whether the one being read is the first. */
  private looked = false;
  private firstLook = false;
  /**
   * What a new layout reads from the line it was learned from, to compare with what the search read;
   * made at the first learning: most small logs never learn.
   */
  private check: { values: TaskValues; ints: TaskInts; spans: TaskSpans } | undefined;

  /**
   * @param values, ints, spans where a task end read goes (the replay's, which the searches fill too)
   * @param metrics the replay's finder of Task Metrics (its distance is the last task end's, whichever reader read it)
   * @param summaries whether the stage and executor summaries are read (heads then read Task Info)
   * @param library the layouts this replay shares with the others of its thread, if any
   */
  constructor(
    private readonly values: TaskValues,
    private readonly ints: TaskInts,
    private readonly spans: TaskSpans,
    private readonly metrics: TaskMetricsFinder,
    private readonly summaries: boolean,
    private readonly library?: TaskLayoutLibrary,
  ) {
    if (library !== undefined && library.summaries !== summaries) throw new Error('a layout library is for replays with or without summaries, not both');
  }

  /** Task ends read by layouts, not by searching their keys: for tests and the bench. */
  get taskEndsRead(): number {
    return this.reads;
  }

  /**
   * The task end buf[from, end) (`from` just past the event name) read by the last head and
   * metrics layouts into values, ints and spans; false when either part differs from each of its
   * layouts (the caller searches). `tasks`: task ends read so far. While the layouts keep missing,
   * only every LAYOUT_PROBE_EVERY-th task end tries them (and may become one): a line that misses
   * costs its tries on top of the searches. Without a library none are learned before LEARN_AFTER
   * task ends, so none are tried; with one, from the first task end on.
   */
  read(buf: Buffer, words: DataView, from: number, end: number, tasks: number): boolean {
    const library = this.library;
    if (library === undefined ? tasks < LEARN_AFTER : library.layouts.metrics.length === 0 && this.own.metrics.length === 0) return false;
    if (this.score <= LAYOUTS_OFF && tasks % LAYOUT_PROBE_EVERY !== 0) return false;
    this.sharedNow = undefined;
    const read = this.readTaskEnd(buf, words, from, end);
    this.score = read ? Math.min(this.score + 1, -LAYOUTS_OFF) : Math.max(this.score - 1, LAYOUTS_OFF);
    // The library's scores count the task ends that looked there, not their parts.
    if (this.sharedNow && library !== undefined) {
      const score = this.firstLook ? library.first : library.score;
      const next = read ? Math.min(score + 1, -LAYOUTS_OFF) : Math.max(score - 1, LAYOUTS_OFF);
      if (this.firstLook) library.first = next;
      else library.score = next;
    }
    return read;
  }

  /**
   * After the searches read a task end that no layout read (values, ints and spans hold what they
   * read; Task Metrics at `tm`, Task Info's key at `infoKeyAt` with summaries): learns from it when
   * learning is due (LEARNS_FREE; before LEARN_AFTER task ends, the library's). `tasks`: task ends read before this one.
   */
  learn(buf: Buffer, words: DataView, from: number, end: number, tasks: number, tm: number, infoKeyAt: number): void {
    if (tasks < LEARN_AFTER) {
      const library = this.library;
      if (library === undefined) return;
      library.searched++;
      if (library.learning) this.learnFrom(buf, words, from, end, tm, infoKeyAt);
      return;
    }
    const learns = this.learns;
    if (learns < LEARNS_FREE + Math.floor(tasks / TASKS_PER_LEARN) || learns * LAYOUT_READS_PER_LEARN <= this.reads) this.learnFrom(buf, words, from, end, tm, infoKeyAt);
  }

  /**
   * The library's layouts, for a part none of this replay's own reads; null when there is no
   * library or it is off (its task ends kept missing: LAYOUTS_OFF, probed every LAYOUT_PROBE_EVERY-th;
   * a replay's first look and its others are scored apart, TaskLayoutLibrary.first). Decided once per task end.
   */
  private shared(): PartLayouts | null {
    if (this.sharedNow !== undefined) return this.sharedNow;
    const library = this.library;
    if (library === undefined) return (this.sharedNow = null);
    this.firstLook = !this.looked;
    if ((this.firstLook ? library.first : library.score) <= LAYOUTS_OFF && library.lookups++ % LAYOUT_PROBE_EVERY !== 0) return (this.sharedNow = null);
    this.looked = true;
    return (this.sharedNow = library.layouts);
  }

  /** read(), whether or not the layouts are off. */
  private readTaskEnd(buf: Buffer, words: DataView, from: number, end: number): boolean {
    const values = this.values;
    const ints = this.ints;
    const spans = this.spans;
    const own = this.own;
    // Heads that read Task Info too (successes, with summaries) first, the library's too: a head to
    // the reason reads every line that one of them reads, more slowly (and may then find no layout
    // of its Task Info: a success's is learned with its head).
    let toReason = false;
    let p = readHead(buf, words, from, end, own.heads, true, values, ints, spans);
    const shared = p === -1 ? this.shared() : null;
    if (shared !== null) {
      p = readHead(buf, words, from, end, shared.heads, true, values, ints, spans);
      if (p !== -1) own.heads = withFirst(shared.heads[0]!, own.heads, LAYOUTS_KEPT);
    }
    if (p === -1) {
      toReason = true;
      p = readHead(buf, words, from, end, own.reasonHeads, false, values, ints, spans);
    }
    if (p === -1) {
      if (shared === null) return false;
      p = readHead(buf, words, from, end, shared.reasonHeads, false, values, ints, spans);
      if (p === -1) return false;
      own.reasonHeads = withFirst(shared.reasonHeads[0]!, own.reasonHeads, LAYOUTS_KEPT);
    }
    const head = toReason ? own.reasonHeads[0]! : own.heads[0]!;
    const tm = head.closed ? p - TASK_METRICS.length : this.metrics.find(buf, words, p, end);
    if (tm === -1) return false;
    if (toReason && this.summaries && !this.readTaskInfo(buf, words, tm)) return false;
    const at = tm + TASK_METRICS.length;
    if (!readMetrics(buf, words, at, end, own.metrics, values, ints, spans)) {
      const library = this.shared();
      if (library === null || !readMetrics(buf, words, at, end, library.metrics, values, ints, spans)) return false;
      own.metrics = withFirst(library.metrics[0]!, own.metrics, LAYOUTS_KEPT);
    }
    values[TASK_DURATION] = durationOf(ints);
    values[TASK_LAUNCH] = ints[2]!;
    this.reads++;
    if (this.library !== undefined) this.library.reads++;
    return true;
  }

  /**
   * Task Info's launch and finish time and executor by the last Task Info layouts, for a task end
   * read by a head to its reason (spans has the reason): its Task Info found as the searches
   * find it (taskInfoKey), then read by a layout. False when none reads it (the caller searches).
   */
  private readTaskInfo(buf: Buffer, words: DataView, tm: number): boolean {
    const key = taskInfoKey(buf, words, this.spans, tm);
    if (key === -1) return false;
    const at = key + TASK_INFO.length;
    const own = this.own;
    if (readInfo(buf, words, at, tm, own.infoLayouts, this.values, this.ints, this.spans)) return true;
    const shared = this.shared();
    if (shared === null || !readInfo(buf, words, at, tm, shared.infoLayouts, this.values, this.ints, this.spans)) return false;
    own.infoLayouts = withFirst(shared.infoLayouts[0]!, own.infoLayouts, LAYOUTS_KEPT);
    return true;
  }

  /**
   * Each part of a task end the searches read that none of the last layouts reads becomes the
   * newest layout of its part: the library's that reads it, else a new one if reading the line by
   * it gives what the search gave (and it then goes to the library too). With
   * summaries, a success's head reads Task Info too; a failure's head ends at its reason and its
   * Task Info is a part of its own: a layout through its stack trace would check every byte of it,
   * which the searches skip (the Spark 2.1 shape's 13,000 failures hold 3.7 KB each: +21% instructions).
   */
  private learnFrom(buf: Buffer, words: DataView, from: number, end: number, tm: number, infoKeyAt: number): void {
    this.learns++;
    if (this.library !== undefined) this.library.learns++;
    const spans = this.spans;
    const ints = this.ints;
    const values = this.values;
    const check = (this.check ??= { values: new Float64Array(TASK_VALUES), ints: new Float64Array(4), spans: new Int32Array(4) });
    const summaries = this.summaries;
    const toReason = !summaries || !succeeded(buf, spans);
    const sameHead = (head: TaskEndLayout): boolean => {
      resetHead(check.ints, check.spans);
      const p = runLayout(buf, words, from, end, head, check.values, check.ints, check.spans);
      if (p === -1 || (head.closed ? p - TASK_METRICS.length : this.metrics.find(buf, words, p, end)) !== tm) return false;
      if (toReason) return p === spans[1] && check.spans[0] === spans[0] && check.ints[0] === ints[0] && check.ints[1] === ints[1];
      for (let k = 0; k < 4; k++) if (check.spans[k] !== spans[k]) return false;
      return check.ints[0] === ints[0] && check.ints[1] === ints[1] && Object.is(durationOf(check.ints), values[TASK_DURATION]) && Object.is(check.ints[2], values[TASK_LAUNCH]);
    };
    const infoAt = infoKeyAt + TASK_INFO.length;
    const sameInfo = (info: TaskEndLayout): boolean => {
      resetInfo(check.ints, check.spans);
      if (runLayout(buf, words, infoAt, tm, info, check.values, check.ints, check.spans) === -1) return false;
      return check.spans[2] === spans[2] && check.spans[3] === spans[3] && Object.is(durationOf(check.ints), values[TASK_DURATION]) && Object.is(check.ints[2], values[TASK_LAUNCH]);
    };
    const sameMetrics = (metrics: TaskEndLayout): boolean => {
      check.values.fill(NaN);
      const q = runLayout(buf, words, tm + TASK_METRICS.length, end, metrics, check.values, check.ints, check.spans);
      if (q === -1 || (metrics.closed && q !== end)) return false;
      for (let k = 0; k < METRIC_NAMES.length; k++) if (!Object.is(check.values[k], values[k])) return false;
      return true;
    };
    const own = this.own;
    const shared = this.library?.layouts;
    /** The part's layouts with the one that reads the line first (the library's, else `learned` if it reads it as the search did); unchanged when none does. */
    const learnPart = (part: keyof PartLayouts, same: (layout: TaskEndLayout) => boolean, learned: () => TaskEndLayout | null): void => {
      if (own[part].some(same)) return;
      let layout = shared?.[part].find(same);
      if (layout === undefined) {
        const made = learned();
        if (made === null || !same(made)) return;
        layout = made;
        if (shared !== undefined) shared[part] = withFirst(layout, shared[part], LIBRARY_KEPT);
      }
      own[part] = withFirst(layout, own[part], LAYOUTS_KEPT);
    };
    if (!toReason) {
      learnPart('heads', sameHead, () => learnHead(buf, words, from, end, true, false));
    } else {
      learnPart('reasonHeads', sameHead, () => learnHead(buf, words, from, end, summaries, true));
      if (summaries) learnPart('infoLayouts', sameInfo, () => learnInfo(buf, words, infoAt, tm));
    }
    learnPart('metrics', sameMetrics, () => learnMetrics(buf, words, tm + TASK_METRICS.length, end));
  }
}
