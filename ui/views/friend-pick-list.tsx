import type { Translate } from "../i18n/translate.js";
import type { FriendPicker } from "../view-models/friend-picker.js";
import type { Address } from "../../shared/address.js";

/** Checkboxes of friends in a fieldset, with a search field once the list is long. */
export function FriendPickList({ t, id, picker, legend, onToggle, onQuery }: {
  t: Translate;
  id: string;
  picker: FriendPicker;
  legend: string;
  onToggle: (address: Address) => void;
  onQuery: (query: string) => void;
}) {
  const rows = picker.rows;
  return (
    <fieldset class="pick" data-testid={`${id}-list`}>
      <legend>{legend} <span class="hint">{t("group.selected", { count: picker.selected.size })}</span></legend>
      {picker.searchable ? (
        <>
          <label class="visually-hidden" for={`${id}-search`}>{t("group.search")}</label>
          <input id={`${id}-search`} type="search" placeholder={t("group.search")} value={picker.query} onInput={(e) => onQuery(e.currentTarget.value)} />
        </>
      ) : null}
      <div class="pick-rows">
        {rows.map((row) => (
          <label key={row.address} class="check pick-row">
            <input type="checkbox" checked={row.checked} onChange={() => onToggle(row.address)} />
            <span class="pick-name">
              <span class="ellipsis">{row.name}</span>
              {row.detail ? <span class="hint ellipsis">{row.detail}</span> : null}
            </span>
          </label>
        ))}
        {rows.length === 0 && picker.query ? <p class="hint">{t("group.noMatch", { query: picker.query })}</p> : null}
      </div>
    </fieldset>
  );
}
