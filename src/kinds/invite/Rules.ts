/**
 * The invite's texts, amounts and thresholds (C4, C12), and its band rule in SQL: what the kind's
 * definition and its baseline both read.
 */
import type { SqlClient, Statement } from "@effect/sql"

export const NAME = "invite"

export const rules = {
  /** Action 1: the balance, shown as a whole number of bonuses. */
  balanceText: (balance: number) => `На счету ${balance} бонусов! Потрать их в новом заказе`,
  texts: {
    2: "Как насчет подарков? Дарим 100 бонусов на 2 недели",
    3: "Как насчет скидки? -10% по промокоду PRO10"
  } as Readonly<Record<number, string>>,
  /** Action 2: temporary bonuses, expiring 14 days after accrual. */
  bonus: 100,
  bonusReason: "invite",
  /** "4 weeks", "2 weeks" and "3 months" of C4. */
  fourWeeksDays: 28,
  twoWeeksDays: 14,
  bandAMonths: 3
}

/**
 * The band of a lapse on a day, in SQL: 'A', 'B', or NULL (in neither), from two local dates in
 * the business zone: the day and the last order's day.
 */
export const bandSql = (sql: SqlClient.SqlClient, today: Statement.Fragment, lastDay: Statement.Fragment) =>
  sql`CASE
    WHEN (${today}) - (${lastDay}) > ${rules.fourWeeksDays}
         AND (${lastDay}) > ((${today}) - make_interval(months => ${rules.bandAMonths}))::date THEN 'A'
    WHEN (${today}) - (${lastDay}) > ${rules.twoWeeksDays} AND (${today}) - (${lastDay}) < ${rules.fourWeeksDays} THEN 'B'
  END`
