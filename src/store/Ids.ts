/**
 * The ids the library passes around, as PostgreSQL's bigints read back as text (`id::text`):
 * strings of digits, exact past 2^53 (store/Rows decodes them).
 */

/** A client id as the host stores it (`jupiter.clients.id`). */
export type ClientId = string

/** A notification id (`pronto_notify.notifications.id`). */
export type NotificationId = string
