import { createLogger } from '../../common/logger';
import { runService } from '../../common/service';
import { loadMoneyStorageConfig } from './config';
import { startMoneyStorage } from './service';

const config = loadMoneyStorageConfig();
const logger = createLogger('money-storage', config.LOG_LEVEL);

runService(logger, (supervision) => startMoneyStorage(config, logger, supervision));
