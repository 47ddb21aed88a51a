// A create-vite react-ts app using the generated Belay client (src/generated).
import { useState } from 'react'

import {
  Color,
  CounterController,
  createClient,
  RoomFull,
  ShopController,
  type CounterState,
} from './generated/index.ts'
import { useServerState, useStream } from './generated/react.ts'

const api = createClient({ headers: async () => ({ Authorization: 'Bearer token' }) })

function App() {
  const [color, setColor] = useState<Color>(Color.RED)
  const { state, status, error, server } = useServerState(CounterController, { page: '/rooms/lobby', live: true })
  const ticks = useStream((options) => api.ShopController.ticks({ limit: 3 }, options), [])
  const count: CounterState['count'] | undefined = state?.count

  const lookUp = async (): Promise<void> => {
    try {
      await ShopController.lookup({ ids: [1], color })
    } catch (e) {
      if (e instanceof RoomFull) console.log(e.body.capacity)
    }
  }

  return (
    <>
      <p>{status === 'open' ? 'live' : status} {count ?? '-'} {error ? String(error) : ''}</p>
      <button onClick={() => void server.increment({ room: 'lobby', requestBody: { count: 1 } })}>+1</button>
      <button onClick={() => setColor(color === Color.RED ? Color.DARK_BLUE : Color.RED)}>{color}</button>
      <button onClick={() => void lookUp()}>look up</button>
      <p>{ticks.items.map((t) => t.n).join(',')} {ticks.status}</p>
    </>
  )
}

export default App
