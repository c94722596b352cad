import type { AuditEventView } from "../audit/audit.events.js";
import type { AuditService } from "../audit/audit.service.js";
import type { AuditFilter } from "../audit/audit.repository.js";

/*
 * The audit log as CSV (RFC 4180), written page by page so an export of any size holds one page in memory.
 * Every field is quoted; a field a spreadsheet would run as a formula (starting =, +, -, @, tab or CR, which
 * a username or user agent can) gets a leading apostrophe (OWASP "CSV injection").
 */

export const auditCsvColumns = [
  "time",
  "type",
  "user_id",
  "username",
  "actor_id",
  "actor_username",
  "ip",
  "user_agent",
  "detail",
] as const;

export function csvField(value: string | null): string {
  if (value === null) return "";
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return `"${safe.replace(/"/g, '""')}"`;
}

function csvLine(event: AuditEventView): string {
  const fields = [
    event.created_at,
    event.type,
    event.user_id,
    event.username,
    event.actor_id,
    event.actor_username,
    event.ip,
    event.user_agent,
    event.detail === null ? null : JSON.stringify(event.detail),
  ];
  return `${fields.map(csvField).join(",")}\r\n`;
}

/** The header, then every matching event newest first, `pageSize` rows per database read. */
export async function* auditCsv(audit: AuditService, filter: AuditFilter, pageSize = 500): AsyncGenerator<string> {
  yield `${auditCsvColumns.join(",")}\r\n`;
  let beforeId: string | undefined;
  for (;;) {
    const events = await audit.list({ ...filter, limit: pageSize, ...(beforeId === undefined ? {} : { beforeId }) });
    if (events.length > 0) yield events.map(csvLine).join("");
    const last = events.at(-1);
    if (last === undefined || events.length < pageSize) return;
    beforeId = last.id;
  }
}
