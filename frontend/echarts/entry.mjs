// The trimmed ECharts build Portico's charts need: line and bar series on a cartesian
// grid, tooltip and legend (titles are HTML), drawn on canvas. `make echarts` bundles this file
// with esbuild into public/vendor/echarts.min.js (a minified IIFE, not committed);
// the chart islands call the global `echarts` (`echarts.init`, then `setOption` with the option
// charming built on the server).
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
