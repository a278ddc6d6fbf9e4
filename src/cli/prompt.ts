// Reading a line typed at the terminal, for `login`'s prompts: the password is read with echo off
// (raw mode), with backspace handled and Ctrl-C ending the command as an interrupt.
import { KitError } from "../util/errors.ts";

export function stdinIsTTY(): boolean {
  return process.stdin.isTTY === true;
}

/** Writes `question` to stderr and reads one line from the terminal. */
export function promptLine(question: string, opts: { hidden: boolean; stderr: (text: string) => void }): Promise<string> {
  const stdin = process.stdin;
  // Echo goes off before the prompt shows, so nothing typed after it is ever echoed.
  if (opts.hidden) stdin.setRawMode(true);
  opts.stderr(question);
  let line = "";
  return new Promise((resolve, reject) => {
    const finish = (error?: KitError) => {
      stdin.off("data", onData);
      if (opts.hidden) {
        stdin.setRawMode(false);
        opts.stderr("\n");
      }
      stdin.pause();
      if (error) reject(error);
      else resolve(line);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString("utf8")) {
        if (ch === "\r" || ch === "\n") return finish();
        if (ch === "\u0003") return finish(new KitError("E_CANCELED", "interrupted"));
        if (ch === "\u007f" || ch === "\b") line = line.slice(0, -1);
        else line += ch;
      }
    };
    stdin.on("data", onData);
    stdin.resume();
  });
}
