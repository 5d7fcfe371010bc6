/**
 * An image's end status as the run summary will name it: an image that had nothing to build ends
 * as 'built' in the scheduler, but is fresh (or retagged) to people and machines.
 */
export const shownStatus = (status: string, action: string | undefined): string =>
  status !== 'built'
    ? status
    : action === 'fresh'
      ? 'fresh'
      : action === 'retag'
        ? 'retagged'
        : status;
