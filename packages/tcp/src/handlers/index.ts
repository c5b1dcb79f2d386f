import type { PacketName, PacketOf } from '@geartrain/protocol';
import type { PacketContext } from '../context.js';
import { canDo, canDoTimeout, cantDo, resetAbilities } from './abilities.js';
import { grab, preSleep } from './grab.js';
import { echo, notExpected, option, setClientId } from './misc.js';
import { getStatus, getStatusUnique } from './status.js';
import { submit, submitEpoch, submitReduce } from './submit.js';
import { workComplete, workData, workException, workFail, workStatus } from './work.js';

type Handlers = {
  readonly [N in PacketName]: (context: PacketContext, packet: PacketOf<N>) => void;
};

/** The dispatch table: one handler per packet type (reference §2). */
export const HANDLERS: Handlers = {
  CAN_DO: canDo,
  CANT_DO: cantDo,
  RESET_ABILITIES: resetAbilities,
  PRE_SLEEP: preSleep,
  UNUSED: notExpected,
  NOOP: notExpected,
  SUBMIT_JOB: submit('normal', false),
  JOB_CREATED: notExpected,
  GRAB_JOB: grab('plain'),
  NO_JOB: notExpected,
  JOB_ASSIGN: notExpected,
  WORK_STATUS: workStatus,
  WORK_COMPLETE: workComplete,
  WORK_FAIL: workFail,
  GET_STATUS: getStatus,
  ECHO_REQ: echo,
  ECHO_RES: notExpected,
  SUBMIT_JOB_BG: submit('normal', true),
  ERROR: notExpected,
  STATUS_RES: notExpected,
  SUBMIT_JOB_HIGH: submit('high', false),
  SET_CLIENT_ID: setClientId,
  CAN_DO_TIMEOUT: canDoTimeout,
  ALL_YOURS: notExpected,
  WORK_EXCEPTION: workException,
  OPTION_REQ: option,
  OPTION_RES: notExpected,
  WORK_DATA: workData,
  WORK_WARNING: workData,
  GRAB_JOB_UNIQ: grab('uniq'),
  JOB_ASSIGN_UNIQ: notExpected,
  SUBMIT_JOB_HIGH_BG: submit('high', true),
  SUBMIT_JOB_LOW: submit('low', false),
  SUBMIT_JOB_LOW_BG: submit('low', true),
  SUBMIT_JOB_SCHED: notExpected,
  SUBMIT_JOB_EPOCH: submitEpoch,
  SUBMIT_REDUCE_JOB: submitReduce(false),
  SUBMIT_REDUCE_JOB_BACKGROUND: submitReduce(true),
  GRAB_JOB_ALL: grab('all'),
  JOB_ASSIGN_ALL: notExpected,
  GET_STATUS_UNIQUE: getStatusUnique,
  STATUS_RES_UNIQUE: notExpected,
};
