// The dashboard's strict shape, built from @grafana/schema's own types.
//
// Grafana's generated Dashboard type leaves three places open (Panel.options,
// FieldConfig.custom and Panel.targets are Record<string, unknown>), because
// their shape depends on the panel plugin and the data source. This file closes
// them with the types @grafana/schema ships for the timeseries and stat panel
// plugins, and with the Prometheus data source's query model, so that a typo
// anywhere in deploy/grafana/l2tp-agent.json is an unknown property.
// ts-json-schema-generator turns the type `L2tpDashboard` into a JSON Schema
// with additionalProperties: false on every object.
import type {
  Dashboard,
  DataSourceRef,
  FieldConfig,
  FieldConfigSource,
  Panel,
  RowPanel,
} from '@grafana/schema/dist/types/raw/dashboard/x/types.gen';
import type * as timeseries from '@grafana/schema/dist/types/raw/composable/timeseries/panelcfg/x/types.gen';
import type * as stat from '@grafana/schema/dist/types/raw/composable/stat/panelcfg/x/types.gen';

/** A Prometheus query as Grafana's Prometheus data source stores it (PromQuery). */
export interface PrometheusTarget {
  refId: string;
  expr: string;
  datasource: DataSourceRef;
  legendFormat?: string;
  instant?: boolean;
  range?: boolean;
  format?: 'time_series' | 'table' | 'heatmap';
  interval?: string;
  intervalFactor?: number;
  exemplar?: boolean;
  hide?: boolean;
  editorMode?: 'code' | 'builder';
}

// Both plugins name their types Options and FieldConfig: give them distinct names.
export interface TimeseriesOptions extends timeseries.Options {}
export interface TimeseriesFieldConfig extends timeseries.FieldConfig {}
export interface StatOptions extends stat.Options {}

type PanelBase = Omit<Panel, 'type' | 'options' | 'fieldConfig' | 'targets' | 'datasource'> & {
  datasource: DataSourceRef;
  targets: Array<PrometheusTarget>;
};

type FieldConfigWith<Custom> = {
  defaults: Omit<FieldConfig, 'custom'> & { custom?: Custom };
  overrides: FieldConfigSource['overrides'];
};

export type TimeseriesPanel = PanelBase & {
  type: 'timeseries';
  options: TimeseriesOptions;
  fieldConfig: FieldConfigWith<TimeseriesFieldConfig>;
};

export type StatPanel = PanelBase & {
  type: 'stat';
  options: StatOptions;
  fieldConfig: FieldConfigWith<Record<string, never>>;
};

export type StrictRowPanel = Omit<RowPanel, 'panels'> & { panels: Array<TimeseriesPanel | StatPanel> };

export type L2tpDashboard = Omit<Dashboard, 'panels'> & {
  panels: Array<TimeseriesPanel | StatPanel | StrictRowPanel>;
};
