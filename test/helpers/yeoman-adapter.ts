// The adapter yeoman-test hands the generators: prompts answered from
// withAnswers() (or their defaults), log output discarded.
//
// Why not @yeoman/adapter's TestAdapter (yeoman-test's default): every
// published version (3.x to 5.0.0) gives its prompt module
// `Duplex.from(async () => {})` as output. Since Node 24 (nodejs/node#55077)
// a Duplex made from an async function that returns without reading its
// input is destroyed as soon as the function returns, with an AbortError
// emitted as 'error' on a stream nobody listens to: one uncaught exception
// per TestAdapter, blamed on whichever test is running (152 failures on
// Node 24, none on 20 or 22). The real `yo` uses QueuedAdapter on the
// terminal's streams and is not affected.
//
// This adapter runs the questions through inquirer's own prompt runner (so
// `when`, function defaults, `filter` and already-answered names behave as
// under `yo`), but its prompts are plain functions that answer at once: the
// runner then opens no readline and needs no input or output stream at all.
import { Writable } from 'node:stream';

import { createLogger } from '@yeoman/adapter';
import { createPromptModule } from 'inquirer';

type Answers = Record<string, unknown>;
interface Question {
  name: string;
  type: string;
  message: string;
  default?: unknown;
}
type Callback = (answer: unknown, context: { question: Question; answers: Answers }) => unknown;

/** yeoman-test's TestAdapterOptions, the parts it passes (withAnswers()). */
export interface AdapterOptions {
  mockedAnswers?: Answers;
  callback?: Callback;
  throwOnMissingAnswer?: boolean;
}

/** inquirer's prompt types, plus the deprecated `list` that yeoman still accepts. */
const PROMPT_TYPES = ['input', 'select', 'list', 'number', 'confirm', 'rawlist', 'expand', 'checkbox', 'password', 'editor', 'search'];

/** Whether a mocked answer counts as given (yeoman-test's rules: false is an answer to a confirm, null a choice in a list). */
function given(type: string, answer: unknown): boolean {
  if (type === 'list' || type === 'select') return answer !== undefined;
  if (type === 'confirm') return answer === false || Boolean(answer);
  return Boolean(answer);
}

export class HeadlessAdapter {
  readonly mockedAnswers: Answers = {};
  readonly calls: Array<{ question: Question; answer: unknown }> = [];
  readonly #abort = new AbortController();
  readonly signal = this.#abort.signal;
  /** The real yeoman logger, writing nowhere: every method the generators call exists. */
  readonly log = createLogger({ stdout: new Writable({ write: (_chunk, _encoding, done) => done() }) as unknown as NodeJS.WriteStream });
  readonly promptModule: ReturnType<typeof createPromptModule> = createPromptModule({ signal: this.signal });

  constructor(options: AdapterOptions = {}) {
    Object.assign(this.mockedAnswers, options.mockedAnswers);
    const { callback = (answer: unknown) => answer, throwOnMissingAnswer = false } = options;
    const answer = async (question: Question): Promise<unknown> => {
      let value = this.mockedAnswers[question.name];
      if (!given(question.type, value)) {
        if (value === undefined && question.default === undefined) {
          const missing = `question ${question.name} was asked but withAnswers() has no answer and it has no default`;
          if (throwOnMissingAnswer) throw new Error(missing);
          console.warn(missing);
        }
        value = question.default;
        if (value === undefined && question.type === 'confirm') value = true;
      }
      this.calls.push({ question, answer: value });
      return callback(value, { question, answers: { [question.name]: value } });
    };
    // A generator's own registerPrompt() gets the same headless answerer.
    for (const type of PROMPT_TYPES) this.promptModule.registerPrompt(type, answer as never);
    this.promptModule.registerPrompt = ((type: string) => {
      (this.promptModule.prompts as Record<string, unknown>)[type] = answer;
      return this.promptModule;
    }) as never;
  }

  async prompt(questions: unknown, initialAnswers?: Answers): Promise<Answers> {
    try {
      return (await this.promptModule(questions as never, initialAnswers as never)) as Answers;
    } catch (error) {
      this.#abort.abort(error);
      throw error;
    }
  }

  async queue<T>(task: (adapter: this) => T | Promise<T>): Promise<T> {
    return task(this);
  }

  async progress<T>(task: (progress: { step: () => void }) => T): Promise<T> {
    return task({ step() {} });
  }

  close(): void {
    this.#abort.abort();
  }

  abort(reason?: unknown): void {
    this.#abort.abort(reason);
  }
}
