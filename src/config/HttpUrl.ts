/**
 * A setting that takes an http(s) URL: what is wrong with it, in words that print none of its
 * secret parts. A user or password in a URL would travel in every request's URL and appear
 * wherever a failed request is described, so none is taken; each service has its own secret.
 */
import { Option } from "effect"

/** Scheme and host only: never the user, password, path or query. */
export const describe = (text: string): string => {
  try {
    const url = new URL(text)
    return url.host === "" ? `a ${url.protocol} URL` : `${url.protocol}//${url.host}`
  } catch {
    return "a value that is not a URL"
  }
}

export interface Setting {
  /** Where the value came from: `SITE_URL`, `BONUS_SERVER_URL`, an option in code. */
  readonly name: string
  /** What the URL is of: "the Site's http(s) URL". */
  readonly what: string
  readonly example: string
  /** Where the secret goes instead of the URL: "the Site takes only its key (SITE_KEY)". */
  readonly secretInstead: string
}

export const problem = (text: string, setting: Setting): Option.Option<string> => {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return Option.some(`${setting.name} is not a URL; give ${setting.what}, e.g. ${setting.example}`)
  }
  if (url.protocol !== "http:" && url.protocol !== "https:" || url.host === "") {
    return Option.some(`${setting.name} (${describe(text)}) is not an http(s) URL, e.g. ${setting.example}`)
  }
  if (url.username !== "" || url.password !== "") {
    return Option.some(`${setting.name} (${describe(text)}) carries a user name or password; ${setting.secretInstead}`)
  }
  return Option.none()
}
