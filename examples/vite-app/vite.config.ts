import { defineConfig } from 'vite'
import warren from 'warren/vite'

export default defineConfig({ plugins: [warren()] })
