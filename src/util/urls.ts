// Addresses as messages and progress show them: a URL's `user:password@` is never printed, wherever
// it stands in the text (a git error line quotes the remote).

/** `text` with every `scheme://userinfo@` reduced to `scheme://`. */
export function withoutCredentials(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^@/?#\s]*@/gi, "$1");
}
