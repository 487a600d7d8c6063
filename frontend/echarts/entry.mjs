// The trimmed ECharts build Portico's charts need: line and bar series on a cartesian
// grid, tooltip and legend (titles are HTML), drawn on canvas. `make echarts` bundles this file
// with esbuild into public/vendor/echarts.min.js (a minified IIFE, not committed);
// charming's wasm renderer calls the global `echarts` (`echarts.init`).
import * as echarts from "echarts/core";
import { BarChart, LineChart } from "echarts/charts";
import {
  GridComponent,
  LegendComponent,
  TooltipComponent,
} from "echarts/components";
import { CanvasRenderer } from "echarts/renderers";

echarts.use([
  LineChart,
  BarChart,
  GridComponent,
  TooltipComponent,
  LegendComponent,
  CanvasRenderer,
]);

globalThis.echarts = echarts;
