/** A port free on 127.0.0.1 at the moment of asking, for a server a test starts (a runner, a monitoring port, a database). */
import * as net from "node:net"

export const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer()
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    })
  })

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
