/**
 * An address drawn so it never breaks mid-word: the name and the `#domain` are two unbroken runs,
 * a line may break only between them, and where room is short the name gives way before the domain.
 */
export function AddressText({ address, testid }: { address: string; testid?: string }) {
  const hash = address.indexOf("#");
  if (hash <= 0) return <span class="address" data-testid={testid}>{address}</span>;
  return (
    <span class="address" data-testid={testid}>
      <span class="address-name">{address.slice(0, hash)}</span>
      <wbr />
      <span class="address-domain">{address.slice(hash)}</span>
    </span>
  );
}
