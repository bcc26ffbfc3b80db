/** Saves `text` as a download named `name`, as a browser saves any file: the PWA's and the extension's export. */
export function saveTextFile(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
  const link = Object.assign(document.createElement("a"), { href: url, download: name });
  link.click();
  // Revoked once the download has surely begun reading it.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
