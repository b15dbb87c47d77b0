/**
 * The occurrence of a birthday in a given year: 29 February is 28 February in other years (C6).
 * One body for the function's two definitions (migrations 1 and 6).
 */
export const BIRTHDAY_IN_YEAR = `  SELECT CASE
    WHEN extract(month FROM b) = 2 AND extract(day FROM b) = 29
         AND NOT ((y % 4 = 0 AND y % 100 <> 0) OR y % 400 = 0)
      THEN make_date(y, 2, 28)
    ELSE make_date(y, extract(month FROM b)::int, extract(day FROM b)::int)
  END`
