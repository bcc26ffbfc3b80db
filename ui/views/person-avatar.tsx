/** A person's round picture: their avatar when they set one (PROTOCOL §8.2), else an initial. */
export function PersonAvatar({ url, initial, extra = "" }: { url: string | null; initial: string; extra?: string }) {
  return (
    <span class={`avatar ${extra}`} aria-hidden="true" data-testid="avatar">
      {url ? <img class="avatar-image" src={url} alt="" data-testid="avatar-image" /> : initial}
    </span>
  );
}
