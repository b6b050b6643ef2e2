/** Names, labels and the API version of what the operator manages. */
export const GROUP = 'sluice.io';
export const API_VERSION = `${GROUP}/v1alpha1`;
export const FINALIZER = `${GROUP}/cleanup`;
export const MANAGED_BY = 'sluice-operator';

export function instanceLabels(instance: string, component: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'sluice',
    'app.kubernetes.io/instance': instance,
    'app.kubernetes.io/component': component,
    'app.kubernetes.io/managed-by': MANAGED_BY,
    'sluice.io/instance': instance,
  };
}

export function ownedSelector(instance: string): string {
  return `app.kubernetes.io/managed-by=${MANAGED_BY},sluice.io/instance=${instance}`;
}

export const planConfigMapName = (instance: string, part: number) => (part === 0 ? `${instance}-plan` : `${instance}-plan-${part}`);
export const runtimeDeploymentName = (instance: string, replica: number) => `${instance}-runtime-${replica}`;
export const runtimeServiceName = (instance: string) => `${instance}-runtime`;
export const runtimeSecretsName = (instance: string) => `${instance}-runtime-secrets`;
