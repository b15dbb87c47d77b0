/** The birthday's texts, amounts and thresholds (C6, C12): what the kind's definition and its baseline both read. */

export const NAME = "birthday"

export const rules = {
  texts: {
    1: "У вас скоро день рождения: дарим скидку 15% на всю следующую неделю",
    2: "С Днем рождения! Дарим 500 бонусов на 2 недели"
  } as Readonly<Record<number, string>>,
  /** How many days ahead a birthday is greeted (inclusive). */
  daysAhead: 14,
  /** Action 2: temporary bonuses, expiring 14 days after accrual. */
  bonus: 500,
  bonusReason: "birthday"
}
